"""GET /healthz: is the database reachable and migrated to head?"""
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from flask import Blueprint, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from .accounts.access import PUBLIC, access
from .migrating.status import UPGRADE_COMMAND, migration_status

health = Blueprint("health", __name__)


@health.route("/healthz")
@access(PUBLIC)
def healthz():
    """200 when the database is at head, or only revisions that run after the
    deploy are pending (the deployed release needs none of them); 503 when
    it is behind or unreachable."""
    try:
        status = migration_status()
    except SQLAlchemyError as exc:
        current_app.logger.warning("health check: database error: %s", exc)
        return jsonify(status="error", error="database unavailable"), 503
    except (CommandError, RevisionError) as exc:
        return jsonify(status="error", error=str(exc)), 503
    body = {
        "status": "ok" if status.is_ready else "behind",
        "current": list(status.current),
        "heads": list(status.heads),
        "pending": status.pending,
    }
    if status.after_deploy:
        body["pending_after_deploy"] = status.after_deploy
    if status.is_ready:
        return jsonify(body), 200
    body["fix"] = UPGRADE_COMMAND
    return jsonify(body), 503
