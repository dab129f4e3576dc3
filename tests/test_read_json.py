"""json/jsonb columns read by orjson answer exactly what the standard library answers."""

import json

from hypothesis import given
from hypothesis import strategies as st

from app.database import read_json

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
DOCUMENTS = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5), max_leaves=30
)


@given(DOCUMENTS)
def test_any_document_reads_as_the_standard_library_reads_it(document):
    text = json.dumps(document)
    read, expected = read_json(text), json.loads(text)
    assert read == expected and json.dumps(read) == json.dumps(expected)


def test_numbers_orjson_would_change_or_refuse():
    for text in ["123456789012345678901234567890", "[18446744073709551616]", "1e400", "-1e400"]:
        assert repr(read_json(text)) == repr(json.loads(text)), text
