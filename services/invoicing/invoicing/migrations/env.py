from servicekit.migrate import run

from invoicing.models import Base

run(Base.metadata)
