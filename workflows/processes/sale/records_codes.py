"""The stable codes of the wealth-sale records' refusals (customers, products, qualifications and
their CSV import), documented in the API's Error schema (``Family.error_codes`` / ``field_codes``)."""

ERROR_CODES: dict[str, str] = {
    "advisor_unqualified": "422: the advisor holds no current 个人理财业务资格 on the sale date (`figures`: "
                           "date, last_expiry); the refusal is in the security log",
    "import_refused": "422: the CSV file was refused whole, nothing written; `fields` names each error as "
                      "`line L, column C (field)` (`figures`: errors, shown)",
    "import_too_large": "422: the CSV file is larger or longer than an import takes (`figures`: limit)",
    "already_revoked": "409: the qualification was already revoked",
}

FIELD_CODES: dict[str, str] = {
    "id_format": "not an identity-document number (18-character resident ID card, or passport/permit letters "
                 "and digits)",
    "id_checksum": "the resident ID card number's checksum character is wrong",
    "id_birth_date": "the resident ID card number holds no valid date of birth",
    "birth_date_mismatch": "the date of birth differs from the one in the resident ID card number",
    "expiry_before_assessment": "the assessment (or qualification) expires before it was made",
    "future_date": "a date that has not come yet where only a past date makes sense",
    "guardian_required": "a minor needs a legal guardian: name, ID number and relation",
    "guardian_incomplete": "the guardian's name, ID number and relation go together",
    "guardian_is_minor": "the guardian's ID number says they are under 18",
    "guardian_is_customer": "the guardian's ID number is the customer's own",
    "assessment_incomplete": "risk level, assessment date and expiry go together",
    "not_a_level": "not a risk level (C1–C5) or rating (R1–R5)",
    "not_a_phone": "not a phone number (digits, spaces, +, -; 6 to 20 digits)",
    "unknown_column": "a CSV header the import does not know",
    "missing_column": "a column the CSV import needs is absent",
    "duplicate_column": "the CSV header names a column twice",
    "wrong_cell_count": "a CSV line with more cells than the header",
    "not_utf8": "the file is not UTF-8 text",
    "not_csv": "the file is not readable as CSV",
    "empty_file": "the file holds no header or no line",
}
