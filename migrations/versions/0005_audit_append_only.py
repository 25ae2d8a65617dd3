"""the audit trail is append-only in the database itself

Revision ID: 0005_audit_append_only
Revises: 0004_sign_in_failures
Create Date: 2026-11-27 20:10:00.000000

Audit rows were append-only by convention: no code changes them. Triggers now refuse any
UPDATE or DELETE of `audit_events`, whoever sends it, on SQLite and PostgreSQL alike.
"""

from alembic import op

revision = "0005_audit_append_only"
down_revision = "0004_sign_in_failures"
branch_labels = None
depends_on = None

MESSAGE = "audit_events is append-only"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events"
            " FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_events_no_{event.lower()} BEFORE {event} ON audit_events"
            f" BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION audit_events_append_only()")
        return
    for event in ("update", "delete"):
        op.execute(f"DROP TRIGGER audit_events_no_{event}")
