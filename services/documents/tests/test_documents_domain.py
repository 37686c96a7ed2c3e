"""What a file is by its first bytes, and the name it may be shown under."""
import pytest

from servicekit.errors import InvalidFields

from documents import domain, schemas

from documents_testkit import EXE, HEIC, JPEG, PDF, PNG, b64


@pytest.mark.parametrize("data, expected", [
    (PDF, "application/pdf"), (JPEG, "image/jpeg"), (PNG, "image/png"), (HEIC, "image/heic"),
    (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "image/heic"),   # HEIF with HEVC
    (b"\x00\x00\x00\x14ftypmif1\x00\x00\x00\x00mif1", None),       # plain HEIF: refused
    (b"\x00\x00\x00\x18ftypmsf1\x00\x00\x00\x00msf1avif", None),   # AVIF sequence: refused
    (b"\x00\x00\x00\x18ftypmsf1\x00\x00\x00\x00msf1hevc", "image/heic"),
    (b"\x00\x00\x00\x14ftypheis\x00\x00\x00\x00mif1", "image/heic"),
    (b"\x00\x00\x00\x18ftyphevc\x00\x00\x00\x00", "image/heic"),
    (EXE, None), (b"GIF89a" + b"\x00" * 10, None),
    (b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00mp41", None),          # an MP4 video
    (b"<html>%PDF-", None), (b"%PD", None), (b"", None),
    (b"\x89PNG\r\n\x1a", None)])                                       # a PNG cut short
def test_files_are_known_by_their_first_bytes_not_their_names(data, expected):
    assert domain.sniff(data) == expected


@pytest.mark.parametrize("raw, cleaned", [
    ("report.pdf", "report.pdf"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\alice\\Insurance card.jpg", "Insurance card.jpg"),
    ("/var/www/../x.png", "x.png"),
    ("scan\x00.pdf", "scan.pdf"),
    ("bill\u202egpj.exe", "billgpj.exe"),        # right-to-left override removed
    ("  two   spaces\t.pdf ", "two spaces.pdf"),
    (".hidden.pdf", "hidden.pdf"),
    ("café.pdf", "café.pdf"),
])
def test_names_are_cut_to_their_last_part_without_control_characters(raw, cleaned):
    assert domain.clean_filename(raw) == cleaned


@pytest.mark.parametrize("raw", ["", "   ", "..", "../", "a/b/", "\x00\x01", None, 42, "C:\\dir\\"])
def test_a_name_with_nothing_usable_left_is_refused(raw):
    assert domain.clean_filename(raw) is None
    with pytest.raises(InvalidFields) as refused:
        schemas.filename(raw)
    assert refused.value.errors == {"file": domain.NO_NAME}


def test_long_names_are_capped_keeping_the_extension():
    name = domain.clean_filename("x" * 500 + ".pdf")
    assert len(name) == domain.NAME_MAX and name.endswith(".pdf")
    assert len(domain.clean_filename("y" * 500)) == domain.NAME_MAX


def test_file_bytes_refuses_empty_too_large_and_garbage_in_words_for_the_person():
    assert schemas.file_bytes(b64(PDF), 1024) == PDF
    for content, message in [("", "This file is empty."), (None, "This file is empty."),
                             (b64(PDF * 100), "This file is larger than 1 KB."),
                             ("not base64!!", domain.UNREADABLE)]:
        with pytest.raises(InvalidFields) as refused:
            schemas.file_bytes(content, 1024)
        assert refused.value.errors == {"file": message}
    assert domain.too_large_message(10 * 1024 * 1024) == "This file is larger than 10 MB."


def test_quota_counts_every_byte():
    assert domain.fits_quota(90, 10, 100)
    assert not domain.fits_quota(90, 11, 100)
