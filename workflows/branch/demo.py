"""The demo branch: every role of SPEC §1, three project departments, regions,
outlets, teams, about twenty marketing staff; each family adds a few cases under way."""

from __future__ import annotations

from sqlalchemy import select

from workflows.branch import accounts, calendar_admin
from workflows.branch.models import OrgUnit, Role, User, UserRole
from workflows.branch.roles import ROLES
from workflows.db import db

DEMO_PASSWORD = "demo1234"

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
         "霞", "平", "刚", "桂英", "华", "建国", "婷", "宇", "浩", "欣", "晨", "凯"]


def ensure_roles() -> None:
    existing = {r.key for r in db.session.scalars(select(Role))}
    for key, zh, en in ROLES:
        if key not in existing:
            db.session.add(Role(key=key, name_zh=zh, name_en=en))
    db.session.flush()


class _Names:
    def __init__(self) -> None:
        self.i = 0

    def next(self) -> str:
        name = SURNAMES[self.i % len(SURNAMES)] + GIVEN[(self.i * 7) % len(GIVEN)]
        self.i += 1
        return name


def _user(username: str, full_name: str, roles: list[str], unit: OrgUnit | None, password_hash: str) -> User:
    user = User(username=username, full_name=full_name, password_hash=password_hash, unit=unit)
    user.role_rows = [UserRole(role_key=r) for r in roles]
    db.session.add(user)
    return user


def seed_demo(with_cases: bool = True) -> list[tuple[str, str, str]]:
    """Create the demo branch once; returns (username, name, roles) for the login list. The bundled
    holiday schedules are loaded into every year nobody has edited yet."""
    ensure_roles()
    calendar_admin.load_bundled_if_empty()
    if db.session.scalars(select(User).where(User.username == "gm")).first() is not None:
        return demo_logins()
    pw = accounts.hash_password(DEMO_PASSWORD)
    names = _Names()
    branch = OrgUnit(kind="branch", name="华信证券 深圳福田营业部")
    db.session.add(branch)
    gm = _user("gm", "赵总", ["gm", "committee", "retail_head"], branch, pw)
    branch.leader = gm
    _user("trading", "钱交易", ["trading_manager", "committee"], branch, pw)
    _user("finance", "孙财务", ["finance_manager"], branch, pw)
    _user("retail", "李零售", ["retail_head", "committee"], branch, pw)
    _user("counter1", "周柜员", ["counter"], branch, pw)
    _user("counter2", "吴柜员", ["counter"], branch, pw)
    _user("office", "郑办公", ["office"], branch, pw)
    _user("designer", "冯设计", ["designer"], branch, pw)
    _user("auditor", "陈稽核", ["auditor"], branch, pw)
    _user("admin", "褚管理", ["admin"], branch, pw)
    staff_no = 1
    advisor_no = 1
    for d in range(1, 4):
        dept = OrgUnit(kind="department", name=f"项目{'一二三'[d - 1]}部", parent=branch)
        db.session.add(dept)
        director = _user(f"director{d}", names.next(), ["project_director", "committee"], dept, pw)
        dept.leader = director
        _user(f"support{d}", names.next(), ["support"], dept, pw)
        if d == 1:
            _user("support1b", names.next(), ["support"], dept, pw)
        for r in range(1, 3):
            region = OrgUnit(kind="region", name=f"{dept.name}第{r}片区", parent=dept)
            db.session.add(region)
            regional = _user(f"region{d}{r}", names.next(), ["regional_manager", "station_manager", "staff"],
                             None, pw)
            region.leader = regional
            for o in range(1, 3 if r == 1 else 2):
                bank = ["工商银行", "建设银行", "农业银行", "招商银行"][(d + r + o) % 4]
                outlet = OrgUnit(kind="outlet", name=f"{bank}{dept.name[2]}{r}{o}网点", parent=region)
                team = OrgUnit(kind="team", name=f"{outlet.name}团队", parent=outlet)
                db.session.add_all([outlet, team])
                if o == 1:
                    leader = regional  # a regional manager also leads one outlet (第四条)
                    regional.unit = team
                else:
                    leader = _user(f"station{d}{r}{o}", names.next(), ["station_manager", "staff"], team, pw)
                outlet.leader = leader
                team.leader = leader
                for _ in range(2):
                    _user(f"staff{staff_no:02d}", names.next(), ["staff"], team, pw)
                    staff_no += 1
                if advisor_no <= 3 and o == 1:
                    _user(f"advisor{advisor_no}", names.next(), ["advisor", "staff"], team, pw)
                    advisor_no += 1
    while staff_no <= 20:
        first_team = db.session.scalars(select(OrgUnit).where(OrgUnit.kind == "team").order_by(OrgUnit.id)).first()
        _user(f"staff{staff_no:02d}", names.next(), ["staff"], first_team, pw)
        staff_no += 1
    db.session.commit()
    if with_cases:
        _sample_cases()
    return demo_logins()


def _sample_cases() -> None:
    """Each family's sample cases (Family.demo), so the inbox is not empty."""
    from workflows import processes

    for family in processes.families():
        if family.demo is not None:
            family.demo()


def demo_logins() -> list[tuple[str, str, str]]:
    rows = db.session.scalars(select(User).order_by(User.id)).all()
    return [(u.username, u.full_name, ",".join(sorted(u.roles))) for u in rows]
