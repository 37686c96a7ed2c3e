"""The two tables every service keeps for reliable messaging. They live in
their own MetaData, which each service's migrations include."""
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text

messaging_metadata = MetaData()

outbox = Table(
    "outbox", messaging_metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("event_type", String(80), nullable=False),
    Column("version", Integer, nullable=False),
    Column("envelope", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("sent_at", DateTime, nullable=True, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime, nullable=True),
    Column("last_error", String(200), nullable=True),
)

processed_events = Table(
    "processed_events", messaging_metadata,
    Column("event_id", String(36), primary_key=True),
    Column("handler", String(120), primary_key=True),
    Column("processed_at", DateTime, nullable=False),
)
