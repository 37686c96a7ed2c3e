from servicekit.migrate import run

from scheduling.models import Base

run(Base.metadata)
