"""The stable codes the leave family's refusals carry, documented in the API's Error schema."""

ERROR_CODES: dict[str, str] = {
    # leave requests (refused at submission or after a correction; `figures` holds the numbers)
    "leave_not_in_advance": "422: leave starts on or before today (`figures`: first, today); sick and "
                            "work-injury leave may be late with the certificate",
    "leave_too_late": "422: late leave filed more than 30 days after its first day (`figures`: days, start)",
    "leave_balance_exceeded": "422: personal leave over the yearly limit (`figures`: year, limit, approved, "
                              "pending, remaining, requested)",
    "leave_overlap": "422: another pending or approved leave of the person shares a day (`figures`: case, start, end)",
    "leave_certificate_required": "422: sick or work-injury leave without the hospital's certificate",
    "leave_hospital_level": "422: sick leave needs a district-level or higher hospital",
    "leave_no_working_days": "422: the dates hold no working day of the branch calendar",
    "leave_half_day_span": "422: a half day must start and end on the same day",
    "leave_dates_order": "422: the leave ends before it starts",
    "leave_dates_missing": "422: the leave dates are missing",
    "leave_too_long": "422: a request covers at most a year and starts within a year",
    "leave_type_unknown": "422: not a leave type",
    "leave_no_approver": "422: nobody in the branch can approve this person's leave (name a branch leave approver)",
    "leave_no_requester": "422: leave is requested by the person taking it, not by the system",
    # the attendance ledger
    "already_cancelled": "409: the absence was already cancelled",
}

FIELD_CODES: dict[str, str] = {
    "not_a_working_day": "a day off in the branch calendar (a weekend or a public holiday)",
    "future_day": "a day that has not come yet",
    "already_covered": "approved leave or a recorded absence already covers that day (or half day)",
}
