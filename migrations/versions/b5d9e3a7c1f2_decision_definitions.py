"""decision definitions: DMN documents versioned beside the BPMN, pinned per process version

Revision ID: b5d9e3a7c1f2
Revises: 98e94e1e0cc7
Create Date: 2026-11-23 12:00:00

Each process version's inline DMN (process_definition.dmn_xml, name -> XML) becomes rows of
decision_definition (one version per distinct text of a document name) and pins in
process_decision; then the inline column goes. A running case keeps the exact tables its
process version was deployed with.
"""
import hashlib

import sqlalchemy as sa
from alembic import op
from lxml import etree

# revision identifiers, used by Alembic.
revision = 'b5d9e3a7c1f2'
down_revision = '98e94e1e0cc7'
branch_labels = None
depends_on = None

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _decision_ids(text):
    try:
        root = etree.fromstring(text.encode('utf-8'), parser=_PARSER)
    except etree.XMLSyntaxError:
        return []
    return [c.get('id') for c in root if isinstance(c.tag, str) and etree.QName(c).localname == 'decision'
            and c.get('id')]


def upgrade():
    op.create_table('decision_definition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('decision_ids', sa.JSON(), nullable=False),
    sa.Column('dmn_xml', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('deployed_by_id', sa.Integer(), nullable=True),
    sa.Column('deployed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['deployed_by_id'], ['user.id'], name=op.f('fk_decision_definition_deployed_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision_definition')),
    sa.UniqueConstraint('key', 'version', name=op.f('uq_decision_definition_key'))
    )
    with op.batch_alter_table('decision_definition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_definition_key'), ['key'], unique=False)

    op.create_table('process_decision',
    sa.Column('process_definition_id', sa.Integer(), nullable=False),
    sa.Column('decision_definition_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['decision_definition_id'], ['decision_definition.id'],
                            name=op.f('fk_process_decision_decision_definition_id_decision_definition')),
    sa.ForeignKeyConstraint(['process_definition_id'], ['process_definition.id'],
                            name=op.f('fk_process_decision_process_definition_id_process_definition')),
    sa.PrimaryKeyConstraint('process_definition_id', 'decision_definition_id', name=op.f('pk_process_decision'))
    )
    with op.batch_alter_table('process_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_process_decision_decision_definition_id'), ['decision_definition_id'],
                              unique=False)

    conn = op.get_bind()
    process = sa.table('process_definition', sa.column('id', sa.Integer), sa.column('dmn_xml', sa.JSON),
                       sa.column('deployed_by_id', sa.Integer), sa.column('deployed_at', sa.DateTime))
    decision = sa.table('decision_definition', sa.column('id', sa.Integer), sa.column('key', sa.String),
                        sa.column('version', sa.Integer), sa.column('decision_ids', sa.JSON),
                        sa.column('dmn_xml', sa.Text), sa.column('sha256', sa.String),
                        sa.column('deployed_by_id', sa.Integer), sa.column('deployed_at', sa.DateTime))
    pin = sa.table('process_decision', sa.column('process_definition_id', sa.Integer),
                   sa.column('decision_definition_id', sa.Integer))
    versions = {}  # (name, sha) -> decision id; name -> last version number
    numbers = {}
    for row in conn.execute(sa.select(process).order_by(process.c.id)).all():
        for name, text in sorted((row.dmn_xml or {}).items()):
            digest = hashlib.sha256(text.encode('utf-8')).hexdigest()
            if (name, digest) not in versions:
                numbers[name] = numbers.get(name, 0) + 1
                new_id = conn.execute(decision.insert().values(
                    key=name, version=numbers[name], decision_ids=_decision_ids(text), dmn_xml=text, sha256=digest,
                    deployed_by_id=row.deployed_by_id, deployed_at=row.deployed_at,
                ).returning(decision.c.id)).scalar_one()
                versions[(name, digest)] = new_id
            conn.execute(pin.insert().values(process_definition_id=row.id,
                                             decision_definition_id=versions[(name, digest)]))

    with op.batch_alter_table('process_definition', schema=None) as batch_op:
        batch_op.drop_column('dmn_xml')


def downgrade():
    with op.batch_alter_table('process_definition', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dmn_xml', sa.JSON(), nullable=True))
    conn = op.get_bind()
    process = sa.table('process_definition', sa.column('id', sa.Integer), sa.column('dmn_xml', sa.JSON))
    rows = conn.execute(sa.text(
        'SELECT p.process_definition_id, d.key, d.dmn_xml FROM process_decision p '
        'JOIN decision_definition d ON d.id = p.decision_definition_id')).all()
    inline = {}
    for process_id, name, text in rows:
        inline.setdefault(process_id, {})[name] = text
    for (process_id,) in conn.execute(sa.select(process.c.id)).all():
        conn.execute(process.update().where(process.c.id == process_id).values(dmn_xml=inline.get(process_id, {})))
    with op.batch_alter_table('process_definition', schema=None) as batch_op:
        batch_op.alter_column('dmn_xml', existing_type=sa.JSON(), nullable=False)
    with op.batch_alter_table('process_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_process_decision_decision_definition_id'))
    op.drop_table('process_decision')
    with op.batch_alter_table('decision_definition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_definition_key'))
    op.drop_table('decision_definition')
