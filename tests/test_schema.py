"""The committed schema.graphql is what the code builds; regenerate with `phasewise export-schema --output schema.graphql`."""

from pathlib import Path

from resolvers.schema import schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_committed_schema_matches_the_code():
    assert SCHEMA_FILE.read_text() == schema.as_str() + "\n", (
        "schema.graphql is stale: run `phasewise export-schema --output schema.graphql` and commit it"
    )
