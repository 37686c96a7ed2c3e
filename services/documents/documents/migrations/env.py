from servicekit.migrate import run

from documents.models import Base

run(Base.metadata)
