from servicekit.migrate import run

from payments.models import Base

run(Base.metadata)
