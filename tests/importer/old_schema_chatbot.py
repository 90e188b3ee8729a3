"""The old chatbot and file-list tables (reference: pgup-sistemas/Whaticket-Saas models
QueueOption, QueueIntegrations, Prompt, Files, FilesOptions and their migrations).

The unique index the first QueueIntegrations migration put on `name` is left out: it
was global (across companies), and the forks that scoped integrations per company dropped
it, which is where same-name integrations come from.
"""

from __future__ import annotations

import sqlalchemy as sa


def build_chatbot(m: sa.MetaData) -> None:
    """Add QueueOptions, QueueIntegrations, Prompts, Files and FilesOptions to `m`."""
    # Imported here: old_schema.build calls this, so old_schema imports this module.
    from tests.importer.old_schema import I, S, T, _table

    nn = {"nullable": False}
    _table(
        m,
        "QueueOptions",
        ("title", S, nn),
        ("message", T),
        ("option", T),
        ("queueId", I),
        ("parentId", I),
        ("mediaPath", T),
        ("mediaName", T),
    )
    _table(
        m,
        "QueueIntegrations",
        ("type", S, nn),
        ("name", S, nn),
        ("projectName", S),
        ("jsonContent", T),
        ("language", S),
        ("urlN8N", T),
        ("companyId", I),
        ("typebotSlug", S),
        ("typebotExpires", I, {"default": 0}),
        ("typebotKeywordFinish", S),
        ("typebotUnknownMessage", S),
        ("typebotDelayMessage", I, {"default": 1000}),
        ("typebotKeywordRestart", S),
        ("typebotRestartMessage", S),
    )
    _table(
        m,
        "Prompts",
        ("name", T, nn),
        ("apiKey", T, nn),
        ("prompt", T, nn),
        ("maxTokens", I, {**nn, "default": 100}),
        ("maxMessages", I, {**nn, "default": 10}),
        ("temperature", I, {**nn, "default": 1}),
        ("promptTokens", I, {**nn, "default": 0}),
        ("completionTokens", I, {**nn, "default": 0}),
        ("totalTokens", I, {**nn, "default": 0}),
        ("voice", T),
        ("voiceKey", T),
        ("voiceRegion", T),
        ("queueId", I, nn),
        ("companyId", I, nn),
    )
    _table(m, "Files", ("companyId", I, nn), ("name", S, nn), ("message", T, nn))
    _table(
        m,
        "FilesOptions",
        ("name", S, nn),
        ("path", S, nn),
        ("fileId", I, nn),
        ("mediaType", S),
    )
