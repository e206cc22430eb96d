"""Every connection of the app keeps time in UTC, so `created_at` means the
same on every database (SQLite's CURRENT_TIMESTAMP is UTC already)."""
from sqlalchemy import event

SET_UTC = {
    "postgresql": "SET TIME ZONE 'UTC'",
    "mysql": "SET time_zone = '+00:00'",
}


def keep_time_in_utc(engine):
    """Make each new connection of `engine` set its session time zone to UTC."""
    statement = SET_UTC.get(engine.dialect.name)
    if statement is None:
        return

    @event.listens_for(engine, "connect")
    def set_utc(dbapi_connection, connection_record):
        cursor = dbapi_connection.cursor()
        cursor.execute(statement)
        cursor.close()
