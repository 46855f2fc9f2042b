"""The role keys of SPEC §1 with their names in both languages."""

ROLES: list[tuple[str, str, str]] = [
    ("staff", "客户经理", "Marketing staff"),
    ("advisor", "理财经理", "Wealth advisor"),
    ("counter", "柜台人员", "Counter clerk"),
    ("support", "后勤支持岗", "Support staff"),
    ("station_manager", "驻点经理", "Station manager"),
    ("regional_manager", "区域经理", "Regional manager"),
    ("project_director", "项目总监", "Project director"),
    ("trading_manager", "交易部经理", "Trading manager"),
    ("finance_manager", "财务经理", "Finance manager"),
    ("gm", "总经理", "General manager"),
    ("retail_head", "零售业务负责人", "Retail head"),
    ("committee", "营业部经理会", "Managers' committee"),
    ("office", "办公室", "Office"),
    ("designer", "流程设计人员", "Process designer"),
    ("auditor", "稽核", "Auditor"),
    ("admin", "系统管理员", "Administrator"),
]

ROLE_KEYS = frozenset(key for key, _, _ in ROLES)
