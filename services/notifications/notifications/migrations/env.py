from servicekit.migrate import run

from notifications.models import Base

run(Base.metadata)
