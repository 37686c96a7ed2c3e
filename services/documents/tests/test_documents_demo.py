"""The demo clinic's documents: loaded twice without duplicates, and a file
that went missing from var/ is stored again."""
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from servicekit.pdf import text_of

from documents import demo, library, notes
from documents.storage import LocalDiskStorage

from documents_testkit import count


def test_demo_documents_load_twice_and_heal_missing_files(database_url, tmp_path):
    engine = create_engine(database_url("documents"))
    store = LocalDiskStorage(tmp_path / "docs")
    try:
        with Session(engine) as session:
            demo.seed(session, store)
            demo.seed(session, store)
        assert (count(engine, "handbooks"), count(engine, "resources"),
                count(engine, "shared_notes")) == (1, 3, 1)
        with Session(engine) as session:
            assert library.handbook_info(session) == {"filename": "Cedar Ridge client handbook.pdf"}
            handbook = library.current_handbook(session)
            assert "Client handbook" in text_of(store.get(handbook.storage_key))
            kinds = sorted((r.kind, r.form_key) for r in library.published(session))
            assert kinds == [("file", None), ("link", None), ("survey", "phq9")]
            [plan] = notes.shared_with(session, demo.DEMO_CLIENT)
            assert plan.kind == "treatment_plan"
        store.delete(handbook.storage_key)                       # `make clean`
        with Session(engine) as session:
            demo.seed(session, store)
            assert store.exists(library.current_handbook(session).storage_key)
    finally:
        engine.dispose()


def test_demo_forms_and_consents_load_twice(database_url):
    from documents import consents, demo_forms
    engine = create_engine(database_url("documents"))
    try:
        with Session(engine) as session:
            demo_forms.seed(session)
            demo_forms.seed(session)
        assert (count(engine, "form_assignments"), count(engine, "consents")) == (2, 2)
        with Session(engine) as session:
            # the patient and the guardian's second child each have one of each to do
            assert consents.outstanding_counts(session, "cl_demo_avery") == (1, 1)
            assert consents.outstanding_counts(session, "cl_demo_kai") == (1, 1)
    finally:
        engine.dispose()
