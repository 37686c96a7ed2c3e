from servicekit.migrate import run

from clients.models import Base

run(Base.metadata)
