"""Column contracts for the batches that flow between stages (see DESIGN.md)."""

from __future__ import annotations

import pyarrow as pa

#: Document rows.  ``meta`` holds every input field that is not mapped to another
#: column, as a JSON object string, so that heterogeneous inputs still share one schema.
DOC_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string()),
        pa.field("text", pa.string()),
        pa.field("lang", pa.string()),
        pa.field("lang_score", pa.float32()),
        pa.field("source", pa.string()),
        pa.field("meta", pa.string()),
    ]
)

DOC_COLUMNS = tuple(DOC_SCHEMA.names)

MESSAGE_TYPE = pa.list_(pa.struct([pa.field("role", pa.string()), pa.field("content", pa.string())]))

#: Instruction rows: one conversation in one target language.
INSTRUCTION_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string()),
        pa.field("messages", MESSAGE_TYPE),
        pa.field("src_lang", pa.string()),
        pa.field("tgt_lang", pa.string()),
        pa.field("source_id", pa.string()),
    ]
)

#: NER rows: one sentence, its tokens and their IOB2 tags (``meta``: other input fields, JSON).
NER_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string()),
        pa.field("tokens", pa.list_(pa.string())),
        pa.field("tags", pa.list_(pa.string())),
        pa.field("lang", pa.string()),
        pa.field("source", pa.string()),
        pa.field("meta", pa.string()),
    ]
)

#: How one entity was carried from the source sentence to the target one (token offsets,
#: end exclusive; ``src_*`` null for a target span no source entity explains).
PROJECTION_TYPE = pa.list_(
    pa.struct(
        [
            pa.field("src_start", pa.int32()),
            pa.field("src_end", pa.int32()),
            pa.field("tgt_start", pa.int32()),
            pa.field("tgt_end", pa.int32()),
            pa.field("label", pa.string()),
            pa.field("method", pa.string()),
            pa.field("confidence", pa.float32()),
        ]
    )
)

#: Projected NER rows: NER rows in the target language plus where each span came from.
PROJECTED_NER_SCHEMA = pa.schema(
    [
        *NER_SCHEMA,
        pa.field("source_id", pa.string()),
        pa.field("src_lang", pa.string()),
        pa.field("tgt_lang", pa.string()),
        pa.field("projection", PROJECTION_TYPE),
    ]
)

SCHEMAS = {"doc": DOC_SCHEMA, "instruction": INSTRUCTION_SCHEMA, "ner": NER_SCHEMA, "projected_ner": PROJECTED_NER_SCHEMA}

#: Working columns of document rows that instruction outputs do not carry.
INSTRUCTION_DROPS = ("text", "lang", "lang_score", "meta")


def conform(table: pa.Table, schema: pa.Schema = DOC_SCHEMA, drop: tuple[str, ...] = ()) -> pa.Table:
    """Cast the contract columns to their declared types and put them first.

    Stages may add columns; those are kept after the contract columns.  Columns typed
    ``null`` (a batch where a value was never set) are cast to the declared type so
    that every shard of a run writes the same schema.  Schema metadata (the Hugging Face
    features that make ``ner_tags`` a ``Sequence(ClassLabel)``) is kept.
    """
    columns = []
    fields = []
    contract = set(schema.names)
    for field in schema:
        if field.name in table.column_names:
            col = table.column(field.name)
            if col.type != field.type:
                col = col.cast(field.type)
        else:
            col = pa.nulls(table.num_rows, field.type)
        columns.append(col)
        fields.append(field)
    for name in table.column_names:
        if name in contract or name in drop:
            continue
        col = table.column(name)
        if pa.types.is_null(col.type):
            col = col.cast(pa.string())
        columns.append(col)
        fields.append(pa.field(name, col.type))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields, metadata=table.schema.metadata))


def empty_docs() -> pa.Table:
    return DOC_SCHEMA.empty_table()
