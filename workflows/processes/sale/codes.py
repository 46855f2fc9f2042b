"""The stable codes the sale process's refusals carry, documented in the API's Error schema."""

ERROR_CODES: dict[str, str] = {
    "sale_unknown_record": "422: the start form names no active customer (by ID number) or no active product (by "
                           "code); `fields` says which",
    "sale_recording_ref": "422: the double-recording reference is not SYS-YYYYMMDD-NNNN dated from the sale day to "
                          "today",
}

FIELD_CODES: dict[str, str] = {
    "unknown_customer": "no active wealth customer has this ID number",
    "unknown_product": "no active wealth product has this code",
    "recording_ref": "not a double-recording reference of this sale",
    "dates_order": "(sale register filters) `to` is before `from`",
}
