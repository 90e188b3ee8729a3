"""QueueIntegrations, Prompts and QueueOptions: the bots a queue or connection hands to.

An integration or prompt of the same name (case-insensitive) in the company is it
(merged); an integration type this backend does not run is skipped. Prompt API keys are
brought over (encrypted at rest here). Queues and connections are imported before these
tables, so each step's `finish` then points the queues and connections the import wrote
at our integration/prompt (`relink`). Chatbot options are written parents first: a child
whose parent is not imported yet waits for it; one whose parent never comes is an orphan.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket.extensions import db
from whaticket.importer import media
from whaticket.importer.companies import _assign, _stamps
from whaticket.importer.context import Context, Step
from whaticket.importer.mapping import Mapped
from whaticket.importer.source import as_int, opt_text, text, updated_at
from whaticket.models import Prompt, Queue, QueueIntegration, QueueOption, Whatsapp
from whaticket.models.queue_integration import INTEGRATION_TYPES
from whaticket.utils.crypto import decrypt_str, encrypt_str


def _company(ctx: Context, step: Step, row: dict[str, Any]) -> int | None:
    """Our company of an old row; an unknown one makes the row an orphan (skipped)."""
    company_id = ctx.maps.new_id("Companies", row.get("companyId"))
    if company_id is None:
        ctx.skipped(step, row, "company missing (orphan)")
    return company_id


def _same_name(model: Any, company_id: int, name: str) -> int | None:
    """Our row of this name in the company (names are unique per company, any case)."""
    return db.session.scalar(
        sa.select(model.id).where(
            model.company_id == company_id, sa.func.lower(model.name) == name.lower()
        )
    )


def _newer(row: dict[str, Any], seen: Mapped | None) -> bool:
    """Whether the old row changed since it was last applied (or was never applied)."""
    stamp = updated_at(row)
    if seen is None:
        return True
    return stamp is not None and (seen.source_updated_at is None or stamp > seen.source_updated_at)


def _number(value: Any, default: float) -> float:
    """A decimal setting (INTEGER in the reference, text or decimal in forks)."""
    try:
        return float(value) if value is not None and str(value).strip() else default
    except ValueError:
        return default


def _keep_media(values: dict[str, Any], stored: Any, *keys: str) -> dict[str, Any]:
    """Drop the media keys when the old row names a file this run did not copy (no
    --media, or missing): an update must not forget a file an earlier run copied."""
    if values[keys[0]] is None and text(stored).strip():
        return {k: v for k, v in values.items() if k not in keys}
    return values


def _pointers(ctx: Context, table: str, column: str) -> list[dict[str, Any]]:
    """Every old row of `table` (of the chosen companies) with `column` and its stamps:
    all of them, not only those changed --since, as the map says which were applied."""
    t = ctx.source.table(table)
    conds = ctx.source.where(table, company_ids=ctx.options.company_ids)
    cols = [t.c.id, t.c[column], *(t.c[c] for c in ("createdAt", "updatedAt") if c in t.c)]
    with ctx.source.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(*cols).where(*conds)).mappings()]


def relink(ctx: Context, step: Step, column: str, attr: str, model: Any, thing: str) -> None:
    """Point our queues and connections at what their old rows name in `column` (an old
    integration or prompt of `step.table`). Only rows the import wrote are touched (a
    merged one keeps its own settings), and a pointer is applied once per change of the
    old row: `import_map` keeps it under "<table>.<column>", so a second run changes
    nothing and a later edit made here survives until the old row changes again."""
    for table, ours, what in (("Queues", Queue, "queue"), ("Whatsapps", Whatsapp, "connection")):
        if not ctx.source.has(table) or ctx.source.col(table, column) is None:
            continue
        rows = _pointers(ctx, table, column)
        key = f"{table}.{column}"
        imported = ctx.maps.lookup(table, [r["id"] for r in rows])
        applied = ctx.maps.lookup(key, [r["id"] for r in rows])
        fresh: list[dict[str, Any]] = []
        for row in rows:
            mine, seen = imported.get(str(row["id"])), applied.get(str(row["id"]))
            if mine is None or mine.action != "written" or not _newer(row, seen):
                continue
            if seen is None and row[column] is None:
                continue  # never pointed anywhere: nothing to apply or remember
            obj = db.session.get(ours, mine.new_id)
            if obj is None:
                continue
            target = ctx.maps.new_id(step.table, row[column])
            if target is not None and db.session.get(model, target).company_id != obj.company_id:
                target = None  # the old data pointed across companies: never here
            if row[column] is not None and target is None:
                reason = f"{what} points at a missing {thing}: kept without"
                ctx.report.note(step.table, "note", row["id"], reason)
            if getattr(obj, attr) != target:
                setattr(obj, attr, target)
                ctx.report.note(step.table, "note", row["id"], f"{what} pointed at its {thing}")
            stamp = updated_at(row)
            if seen is None:
                fresh.append(
                    {
                        "old_id": row["id"],
                        "new_id": obj.id,
                        "action": "written",
                        "source_updated_at": stamp,
                    }
                )
            else:
                ctx.maps.touch(key, row["id"], stamp)
        db.session.flush()
        ctx.maps.record(key, fresh)


class QueueIntegrations(Step):
    """Webhook, n8n, Typebot and Dialogflow integrations with their Typebot settings."""

    table = "QueueIntegrations"

    def values(self, row: dict[str, Any]) -> dict[str, Any]:
        """Our integration's settings from an old row."""
        return {
            "project_name": opt_text(row.get("projectName"), 255),
            "json_content": opt_text(row.get("jsonContent")),
            "language": opt_text(row.get("language"), 20),
            "url_n8n": opt_text(row.get("urlN8N"), 500),
            "typebot_slug": opt_text(row.get("typebotSlug"), 255),
            "typebot_expires": max(0, as_int(row.get("typebotExpires"))),
            "typebot_keyword_finish": opt_text(row.get("typebotKeywordFinish"), 100),
            "typebot_unknown_message": opt_text(row.get("typebotUnknownMessage")),
            "typebot_delay_message": max(0, as_int(row.get("typebotDelayMessage"), 1000)),
            "typebot_keyword_restart": opt_text(row.get("typebotKeywordRestart"), 100),
            "typebot_restart_message": opt_text(row.get("typebotRestartMessage")),
        }

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write, merge by (company, name), or skip a type this backend does not run."""
        for row in rows:
            company_id = _company(ctx, self, row)
            if company_id is None:
                continue
            kind = text(row.get("type")).strip().lower()
            if kind not in INTEGRATION_TYPES:
                ctx.skipped(self, row, f"integration type {kind[:30]!r} not supported")
                continue
            name = text(row.get("name"), 120).strip() or f"Integration {row['id']}"
            existing = _same_name(QueueIntegration, company_id, name)
            if existing is not None:
                ctx.merged(self, row, existing, "integration of the same name already here")
                continue
            integration = QueueIntegration(
                company_id=company_id, type=kind, name=name, **self.values(row), **_stamps(row)
            )
            db.session.add(integration)
            db.session.flush()
            ctx.written(self, row, integration.id)

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """Take the changed settings (not the name: ours may have been renamed)."""
        if mapped.action != "written":
            return False
        integration = db.session.get(QueueIntegration, mapped.new_id)
        changed = integration is not None and _assign(integration, self.values(row))
        db.session.flush()
        return changed

    def finish(self, ctx: Context) -> None:
        """Point the imported queues and connections at their integrations."""
        relink(ctx, self, "integrationId", "integration_id", QueueIntegration, "integration")


class Prompts(Step):
    """AI prompts with their model settings, usage counters and API keys."""

    table = "Prompts"

    def values(self, ctx: Context, row: dict[str, Any]) -> dict[str, Any]:
        """Our prompt's settings from an old row (keys apart: they are encrypted)."""
        return {
            "prompt": text(row.get("prompt")),
            "queue_id": ctx.maps.new_id("Queues", row.get("queueId")),
            "max_messages": max(0, as_int(row.get("maxMessages"), 10)),
            "max_tokens": max(0, as_int(row.get("maxTokens"), 100)),
            "temperature": _number(row.get("temperature"), 1.0),
            "prompt_tokens": max(0, as_int(row.get("promptTokens"))),
            "completion_tokens": max(0, as_int(row.get("completionTokens"))),
            "total_tokens": max(0, as_int(row.get("totalTokens"))),
            "voice": text(row.get("voice"), 100).strip() or "texto",
            "voice_region": opt_text(row.get("voiceRegion"), 50),
        }

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write or merge by (company, name); a prompt whose queue is gone keeps no queue."""
        for row in rows:
            company_id = _company(ctx, self, row)
            if company_id is None:
                continue
            name = text(row.get("name"), 120).strip() or f"Prompt {row['id']}"
            existing = _same_name(Prompt, company_id, name)
            if existing is not None:
                ctx.merged(self, row, existing, "prompt of the same name already here")
                continue
            values = self.values(ctx, row)
            if values["queue_id"] is None:
                ctx.report.note(self.table, "note", row["id"], "hand-off queue missing: none")
            prompt = Prompt(
                company_id=company_id,
                name=name,
                api_key_encrypted=encrypt_str(text(row.get("apiKey")).strip()),
                voice_key_encrypted=encrypt_str(text(row.get("voiceKey")).strip()),
                **values,
                **_stamps(row),
            )
            db.session.add(prompt)
            db.session.flush()
            ctx.written(self, row, prompt.id)

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """Take the changed settings and keys."""
        prompt = db.session.get(Prompt, mapped.new_id) if mapped.action == "written" else None
        if prompt is None:
            return False
        changed = _assign(prompt, self.values(ctx, row))
        for old, column in (("apiKey", "api_key_encrypted"), ("voiceKey", "voice_key_encrypted")):
            key = text(row.get(old)).strip() or None
            try:
                same = decrypt_str(getattr(prompt, column)) == key
            except ValueError:  # encrypted with another server key: take the old one
                same = False
            if not same:
                # Fernet tokens differ on every call: re-encrypt only a key that changed.
                setattr(prompt, column, encrypt_str(key))
                changed = True
        db.session.flush()
        return changed

    def finish(self, ctx: Context) -> None:
        """Point the imported queues and connections at their prompts."""
        relink(ctx, self, "promptId", "prompt_id", Prompt, "prompt")


class QueueOptions(Step):
    """The chatbot trees: parents before children; one option per key under a parent."""

    table = "QueueOptions"
    company_via = ("Queues", "queueId")

    def __init__(self) -> None:
        #: Old rows whose parent option is not imported yet (it may come in a later batch).
        self.waiting: dict[str, dict[str, Any]] = {}
        #: Old id -> our id (None: skipped) of what this run decided, before it is recorded.
        self.done: dict[str, int | None] = {}
        #: Old queue id -> old company id (the old public folder may hold `company<id>/`).
        self.old_companies: dict[Any, Any] | None = None

    def old_company(self, ctx: Context, old_queue_id: Any) -> Any:
        """The old company of an old queue (read once per run: queues are few)."""
        if self.old_companies is None:
            t = ctx.source.table("Queues")
            with ctx.source.engine.connect() as conn:
                self.old_companies = dict(conn.execute(sa.select(t.c.id, t.c.companyId)).all())
        return self.old_companies.get(old_queue_id)

    def parent(self, ctx: Context, row: dict[str, Any]) -> tuple[bool, int | None]:
        """(known, our id) of the row's parent option: unknown while not imported yet."""
        old = row.get("parentId")
        if old is None:
            return True, None
        if str(old) in self.done:
            return True, self.done[str(old)]
        ids = ctx.maps.ids(self.table)
        return str(old) in ids, ids.get(str(old))

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write every row whose parent is in; the rest wait for theirs."""
        for row in rows:
            self.waiting[str(row["id"])] = row
        progress = True
        while progress:
            progress = False
            for old_id, row in list(self.waiting.items()):
                known, parent_id = self.parent(ctx, row)
                if not known:
                    continue
                del self.waiting[old_id]
                progress = True
                self.done[old_id] = self.write(ctx, row, parent_id)

    def write(self, ctx: Context, row: dict[str, Any], parent_id: int | None) -> int | None:
        """Write or merge one option whose parent is settled; our id (None when skipped)."""
        queue_id = ctx.maps.new_id("Queues", row.get("queueId"))
        queue = db.session.get(Queue, queue_id) if queue_id is not None else None
        if queue is None or (row.get("parentId") is not None and parent_id is None):
            what = "queue" if queue is None else "parent option"
            ctx.skipped(self, row, f"{what} missing (orphan)")
            return None
        key = text(row.get("option"), 20).strip()
        same = db.session.scalar(
            sa.select(QueueOption.id).where(
                QueueOption.queue_id == queue.id,
                QueueOption.parent_id.is_(None)
                if parent_id is None
                else QueueOption.parent_id == parent_id,
                QueueOption.option == key,
            )
        )
        if same is not None:
            # The customer types the key: two options of one key under a parent are one.
            ctx.merged(self, row, same, "option of the same key under the same parent")
            return same
        values = self.values(ctx, row, queue)
        option = QueueOption(
            company_id=queue.company_id,
            queue_id=queue.id,
            parent_id=parent_id,
            option=key,
            **values,
            **_stamps(row),
        )
        db.session.add(option)
        db.session.flush()
        ctx.written(self, row, option.id, media.pending(row.get("mediaPath"), values["media_path"]))
        return option.id

    def values(self, ctx: Context, row: dict[str, Any], queue: Queue) -> dict[str, Any]:
        """Title, message and media of an old option (the media file copied)."""
        old_company = self.old_company(ctx, row.get("queueId"))
        path, name, _ = media.copy(
            ctx, queue.company_id, old_company, row.get("mediaPath"), "queue_options"
        )
        return {
            "title": text(row.get("title"), 255) or text(row.get("option"), 255),
            "message": opt_text(row.get("message")),
            "media_path": path,
            "media_name": opt_text(row.get("mediaName"), 255) or (name if path else None),
        }

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """Take the changed title, message, key and media (not the place in the tree)."""
        option = db.session.get(QueueOption, mapped.new_id) if mapped.action == "written" else None
        if option is None:
            return False
        queue = db.session.get(Queue, option.queue_id)
        values = self.values(ctx, row, queue) | {"option": text(row.get("option"), 20).strip()}
        values = _keep_media(values, row.get("mediaPath"), "media_path", "media_name")
        changed = _assign(option, values)
        db.session.flush()
        return changed

    def attach_media(self, ctx: Context, seen: list[tuple[dict[str, Any], Mapped]]) -> None:
        """Files of options imported before without them (a first run without --media)."""
        media.attach(
            ctx,
            self,
            seen,
            QueueOption,
            "mediaPath",
            "queue_options",
            old_company=lambda row: self.old_company(ctx, row.get("queueId")),
        )

    def finish(self, ctx: Context) -> None:
        """Options still waiting have a parent that never came (or a loop): orphans."""
        for row in self.waiting.values():
            ctx.skipped(self, row, "parent option missing (orphan)")
        self.waiting.clear()
