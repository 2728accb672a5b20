"""Uploads on the console: a city's application workbook (every row's verdict from a dry run, then all
or nothing, in a background thread with a page that shows its progress) and a scorer's score
sheet (what would be recorded, then all or nothing). Both read the file exactly as the command
line's ``project import`` and ``score import`` do, and act through the engine as the signed-in
user.

An uploaded file is kept between the two steps in a folder of its own under the system's
temporary folder, named by a random id and bound to the session that sent it (another session,
even of the same user, does not find it); it is deleted after the import, and any left behind
after an hour.
"""

from __future__ import annotations

import contextvars
import json
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from i18n import Msg, rendered
from policies.base import party_words
from sheets.files import max_import_bytes
from web import analysis_page, queue, shared_jobs, views
from web.auth import Me, Posted, Signed
from web.pages import done, engine_of, render
from workflow.errors import EvalflowError, InvalidInput, NotFound, NotPermitted
from workflow.records import Cycle, User

router = APIRouter(include_in_schema=False)
router.include_router(queue.router)  # (the queue's pages come with the uploads')
router.include_router(analysis_page.router)  # (and the lead's analysis of the sheets)

KEEP_SECONDS = 3600  # an upload not imported is deleted after an hour
WORKERS = 2  # imports running at once on a server (the rest wait their turn)
SUFFIXES = (".xlsx", ".csv", ".json")
SCORE_SUFFIXES = (".xlsx", ".csv")
_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# the note kept beside an upload: a name no uploaded file has (_safe_name strips leading dots)
NOTE = ".upload.json"


# ------------------------------------------------------------------------------------------ the files
@dataclass
class Upload:
    """A file kept between the check and the import."""

    id: str
    kind: str  # "applications" or "scores"
    cycle_id: str
    owner: str  # the session (or, through the API, the user) it belongs to
    user: str
    name: str
    path: Path
    at: float


class UploadBox:
    """The uploaded files of a server, each in a folder of its own (mode 0700) named by its id."""

    def __init__(self, root: Path | None = None):
        self.root = root or Path(tempfile.gettempdir()) / "evalflow-uploads"

    async def save(
        self, file: Any, kind: str, cycle_id: str, owner: str, user: str, suffixes: tuple[str, ...]
    ) -> Upload:
        """Keep an uploaded file, refusing a kind not read here or a file over the import size
        limit (read in pieces: an oversized file is never held whole)."""
        self.sweep()
        if not isinstance(file, UploadFile) or not file.filename:
            raise InvalidInput(Msg("upload"), [Msg("choose a file to upload")])
        name = _safe_name(file.filename)
        suffix = Path(name).suffix.lower()
        if suffix not in suffixes:
            raise InvalidInput(
                Msg("upload"),
                [
                    Msg(
                        "{name}: a {suffix} file is not read here; upload {kinds}",
                        name=name,
                        suffix=suffix or "?",
                        kinds="、".join(suffixes),
                    )
                ],
            )
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        upload_id = secrets.token_urlsafe(18)
        folder = self.root / upload_id
        folder.mkdir(mode=0o700)
        path = folder / name
        limit, size = max_import_bytes(), 0
        try:
            with path.open("wb") as out:
                while chunk := await file.read(1024 * 1024):
                    size += len(chunk)
                    if size > limit:
                        raise InvalidInput(
                            Msg("upload"),
                            [
                                Msg(
                                    "{name} is larger than {limit} MB; split it into smaller files",
                                    name=name,
                                    limit=_mb(limit),
                                )
                            ],
                        )
                    out.write(chunk)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        if size == 0:
            shutil.rmtree(folder, ignore_errors=True)
            raise InvalidInput(Msg("upload"), [Msg("{name} is empty", name=name)])
        up = Upload(upload_id, kind, cycle_id, owner, user, name, path, time.time())
        meta = {"kind": kind, "cycle": cycle_id, "owner": owner, "user": user, "name": name, "at": up.at}
        (folder / NOTE).write_text(json.dumps(meta), encoding="utf-8")
        return up

    def get(self, upload_id: str, owner: str, kind: str) -> Upload:
        """The owner's upload of that kind (NotFound for anyone else's, an expired or unknown one)."""
        folder = self.root / upload_id if _ID.match(upload_id) else None
        try:
            meta = json.loads((folder / NOTE).read_text(encoding="utf-8")) if folder else None
        except (OSError, ValueError):
            meta = None
        if not meta or meta["owner"] != owner or meta["kind"] != kind or time.time() - meta["at"] > KEEP_SECONDS:
            raise NotFound(Msg("upload"), upload_id, Msg("upload the file again"))
        assert folder is not None
        return Upload(
            upload_id, kind, meta["cycle"], owner, meta["user"], meta["name"], folder / meta["name"], meta["at"]
        )

    def drop(self, upload_id: str) -> None:
        if _ID.match(upload_id):
            shutil.rmtree(self.root / upload_id, ignore_errors=True)

    def sweep(self) -> None:
        """Delete the uploads older than an hour."""
        if not self.root.is_dir():
            return
        for folder in [*self.root.iterdir(), *(self.root / ".jobs").glob("*.json")]:
            if folder.name == ".jobs":  # (the imports' shared state: its files go one by one)
                continue
            try:
                if time.time() - folder.stat().st_mtime > KEEP_SECONDS:
                    if folder.is_dir():
                        shutil.rmtree(folder, ignore_errors=True)
                    else:
                        folder.unlink(missing_ok=True)
            except OSError:
                continue


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.3g}"


def _safe_name(filename: str) -> str:
    """The file's own name without any folder, and only characters safe in a path."""
    base = re.split(r"[\\/]", filename)[-1].strip()
    base = re.sub(r"[^\w.\- ()（）]", "_", base)[-120:].lstrip(".")
    return base or "upload"


# ------------------------------------------------------------------------------------------ the work
@dataclass
class RowVerdict:
    """One application of a file: where it is, what it names, and what the import does with it."""

    label: Any  # (the reader's message: 申报表 row 5)
    unit: str
    title: str
    verdict: str  # "new" (would be imported), "same" (already there), "refused", "fine" (no problem of its own)
    problems: list[Any] = field(default_factory=list)
    project_id: int | None = None


@dataclass
class ImportCheck:
    """The dry run of a file: each row's verdict, or the refusal of the whole file."""

    rows: list[RowVerdict] = field(default_factory=list)
    refused: EvalflowError | None = None  # the whole file (unreadable, the window closed…)

    def count(self, verdict: str) -> int:
        return sum(1 for r in self.rows if r.verdict == verdict)


def read_file(engine: Any, cycle: Cycle, path: Path) -> list[tuple[str, dict[str, Any]]]:
    """The applications of a file, read as ``project import`` reads them."""
    from sheets.applications import read_applications

    program = engine.program_of(cycle)
    return read_applications(path, program.form, program.parties)


def check_applications(
    engine: Any, user: User, cycle: Cycle, path: Path, progress: Callable[[int, int], None] | None = None
) -> ImportCheck:
    """The engine's dry run of an import, as a verdict for every row."""
    from workflow.engine.projects import ImportRefused

    out = ImportCheck()
    try:
        items = read_file(engine, cycle, path)
    except EvalflowError as exc:
        out.refused = exc
        return out
    form = engine.program_of(cycle).form
    total = len(items)
    rows = {
        label: RowVerdict(label, _field(form.unit_of, data), _field(form.title_of, data), "new")
        for label, data in items
    }
    try:
        result = engine.submit_batch(
            user.name, items, cycle.id, True, (lambda n: progress(n, total)) if progress else None
        )
    except ImportRefused as exc:
        for label, problem in exc.labelled:
            rows[label].verdict = "refused"
            rows[label].problems.append(problem)
        for label in exc.unchanged:
            rows[label].verdict = "same"
        for r in rows.values():
            if r.verdict == "new":
                r.verdict = "fine"
    except EvalflowError as exc:
        out.refused = exc
    else:
        for label, pid in result.unchanged:
            rows[label].verdict, rows[label].project_id = "same", pid
    out.rows = list(rows.values())
    return out


def _field(get: Callable[[Any], Any], data: Any) -> str:
    try:
        return str(get(data) or "")
    except (KeyError, TypeError, ValueError, AttributeError):
        return ""


def row_words(label: Any) -> str:
    """A row's label as the reader reads it (the readers' labels are messages: ``row 5`` reads
    第5行 in Chinese)."""
    return str(rendered(label))


def refusal_lines(exc: EvalflowError) -> list[str]:
    """A refused file's problems one a line, each row named as the reader reads it (an error
    that lists none is its one sentence)."""
    problems = getattr(exc, "problems", None)
    if not problems:
        return [str(exc)]
    return [str(rendered(p)) for p in problems]


@dataclass
class Job:
    """An import running (or done) in the background: how far it is, then what it did."""

    kind: str  # "check" or "import"
    owner: str  # the session that started it (only it reads the job)
    cycle_id: str
    total: int = 0
    done: int = 0
    finished: bool = False
    check: ImportCheck | None = None
    created: list[int] = field(default_factory=list)
    unchanged: int = 0
    error: EvalflowError | None = None
    at: float = field(default_factory=time.time)


class Jobs:
    """The background imports of a server: at most ``WORKERS`` at once, one per upload. With
    ``shared`` (the uploads' folder), an import's progress and result are written there too, for
    the other workers of the server (web/shared_jobs.py)."""

    def __init__(self, shared: Path | None = None) -> None:
        self.pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="evalflow-import")
        self.lock = threading.Lock()
        self.jobs: dict[str, Job] = {}
        self.shared = shared

    def get(self, upload_id: str) -> Job | None:
        with self.lock:
            for key in [k for k, j in self.jobs.items() if time.time() - j.at > KEEP_SECONDS]:
                del self.jobs[key]
            found = self.jobs.get(upload_id)
        if found is None and self.shared is not None and _ID.match(upload_id):  # (another worker's import)
            data = shared_jobs.read(self.shared, upload_id, KEEP_SECONDS)
            if data is not None:
                found = Job(**{k: data[k] for k in shared_jobs.FIELDS})
                if data.get("error"):
                    found.error = InvalidInput(Msg("upload"), list(data["error"]))
        return found

    def start(self, upload_id: str, job: Job, work: Callable[[Job], None]) -> bool:
        """Run ``work`` for the upload unless a job of it is still running (False then)."""
        shared = self.shared if job.kind == "import" else None
        with self.lock:
            running = self.jobs.get(upload_id)
            if running is not None and not running.finished:
                return False
            if shared is not None and shared_jobs.running_elsewhere(shared, upload_id, KEEP_SECONDS):
                return False
            self.jobs[upload_id] = job
            if shared is not None:
                shared_jobs.publish(shared, upload_id, job)

        def run() -> None:
            try:
                if shared is not None:
                    work(_Published(job, shared, upload_id))  # type: ignore[arg-type]
                else:
                    work(job)
            except EvalflowError as exc:
                job.error = exc
            except Exception as exc:  # a failure the engine did not name: said as an error, logged
                from workflow.log import get_logger

                get_logger(__name__).exception("upload_job_failed", kind=job.kind)
                job.error = InvalidInput(Msg("upload"), [Msg("the import failed: {why}", why=type(exc).__name__)])
            finally:
                job.finished = True
                if shared is not None:
                    lines = refusal_lines(job.error) if job.error is not None else None
                    shared_jobs.publish(shared, upload_id, job, lines)

        # the work reads and writes in the language of the request that started it
        self.pool.submit(contextvars.copy_context().run, run)
        return True


class _Published:
    """A running import's job that also writes its progress for the other workers (at most every
    ``shared_jobs.EVERY`` seconds)."""

    def __init__(self, job: Job, shared: Path, upload_id: str):
        object.__setattr__(self, "_job", job)
        object.__setattr__(self, "_where", (shared, upload_id))
        object.__setattr__(self, "_last", 0.0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._job, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._job, name, value)
        if name in ("done", "total") and time.monotonic() - self._last > shared_jobs.EVERY:
            object.__setattr__(self, "_last", time.monotonic())
            shared_jobs.publish(self._where[0], self._where[1], self._job)


def box_of(request: Request) -> UploadBox:
    state = request.app.state
    if getattr(state, "uploads", None) is None:
        state.uploads = UploadBox(getattr(state, "upload_dir", None))
    box: UploadBox = state.uploads
    return box


def jobs_of(request: Request) -> Jobs:
    state = request.app.state
    with _JOBS_LOCK:
        if getattr(state, "upload_jobs", None) is None:
            state.upload_jobs = Jobs(box_of(request).root)
    jobs: Jobs = state.upload_jobs
    return jobs


_JOBS_LOCK = threading.Lock()


def may_import(user: User, program: Any) -> bool:
    """Who uploads a city's workbook: the lead, and an administrator the program lets submit
    (the engine still judges each row's permission, as for the command line)."""
    return user.role == "lead" or (user.role != "applicant" and views.may(user, program, "submit", user.city))


def refuse_role(user: User, what: Any) -> NotPermitted:
    return NotPermitted(
        Msg("upload"), what, Msg("{name} is {role}", name=user.name, role=views.ROLE_NAMES.get(user.role, user.role))
    )


# ---------------------------------------------------------------------------------- application pages
def _import_cycle(request: Request, me: Signed, cycle_id: str | None) -> tuple[Cycle, Any]:
    engine = engine_of(request)
    cycle = views.choose_cycle(engine, cycle_id)
    program = engine.program_of(cycle)
    if not may_import(me.user, program):
        raise refuse_role(me.user, Msg("applications"))
    return cycle, program


@router.get("/import", response_class=HTMLResponse)
def import_page(request: Request, me: Me, cycle: str | None = None) -> Response:
    chosen, program = _import_cycle(request, me, cycle)
    limit = _mb(max_import_bytes())
    return render(request, "import.html", me, cycle=chosen, program=program, limit=limit, suffixes=SUFFIXES)


@router.post("/import")
async def import_upload(request: Request, me: Me, form: Posted) -> Response:
    chosen, _ = _import_cycle(request, me, form.get("cycle"))
    file = (await request.form()).get("file")
    up = await box_of(request).save(file, "applications", chosen.id, me.session.id, me.user.name, SUFFIXES)
    _start_check(request, me, up)
    return RedirectResponse(f"/import/{up.id}", status_code=303)


def _start_check(request: Request, me: Signed, up: Upload) -> None:
    engine = engine_of(request)
    cycle = engine.get_cycle(up.cycle_id)

    def work(job: Job) -> None:
        def progress(n: int, total: int) -> None:
            job.done, job.total = n, total

        job.check = check_applications(engine, me.user, cycle, up.path, progress)
        job.total = job.done = len(job.check.rows)

    jobs_of(request).start(up.id, Job("check", me.session.id, cycle.id), work)


@router.get("/import/{upload_id}", response_class=HTMLResponse)
def import_status(request: Request, me: Me, upload_id: str) -> Response:
    jobs = jobs_of(request)
    job = jobs.get(upload_id)
    if job is None:  # (the server restarted since the upload: check it again)
        _start_check(request, me, box_of(request).get(upload_id, me.session.id, "applications"))
        job = jobs.get(upload_id)
    if job is None or job.owner != me.session.id:
        raise NotFound(Msg("upload"), upload_id, Msg("upload the file again"))
    cycle, program = _import_cycle(request, me, job.cycle_id)
    page = render(
        request,
        "import_status.html",
        me,
        cycle=cycle,
        program=program,
        job=job,
        upload_id=upload_id,
        row_words=row_words,
        lines=refusal_lines,
    )
    if not job.finished:  # the browser asks again in a second, script or no script
        page.headers["Refresh"] = "1"
    return page


@router.post("/import/{upload_id}/run")
def import_run(request: Request, me: Me, form: Posted, upload_id: str) -> Response:
    box, jobs = box_of(request), jobs_of(request)
    up = box.get(upload_id, me.session.id, "applications")
    cycle, _ = _import_cycle(request, me, up.cycle_id)
    engine = engine_of(request)
    job = Job("import", me.session.id, cycle.id)

    def work(job: Job) -> None:
        try:
            items = read_file(engine, cycle, up.path)
            job.total = len(items)

            def progress(n: int) -> None:
                job.done = n

            result = engine.submit_batch(me.user.name, items, cycle.id, False, progress)
            job.created = [p.id for p in result.created]
            job.unchanged = len(result.unchanged)
        finally:
            box.drop(upload_id)  # imported or refused, the file is not kept

    if not jobs.start(upload_id, job, work):
        raise InvalidInput(Msg("upload"), [Msg("this file is being checked or imported; wait for it to finish")])
    return RedirectResponse(f"/import/{upload_id}", status_code=303)


# ---------------------------------------------------------------------------------- score sheet pages
def _score_cycle(request: Request, me: Signed, cycle_id: str | None) -> tuple[Cycle, Any]:
    engine = engine_of(request)
    cycle = views.choose_cycle(engine, cycle_id)
    program = engine.program_of(cycle)
    if not views.may_score(me.user, program):  # (who uploads a sheet: whoever may enter one)
        raise refuse_role(me.user, Msg("score sheets"))
    return cycle, program


@dataclass
class SheetRow:
    """One filled row of a score sheet: the project, each criterion's score and band, the total."""

    label: str
    project_id: int
    project: str
    scores: list[tuple[Any, int, Any]]  # (criterion, score, band label or None)
    total: int
    completion: str = ""


@dataclass
class SheetCheck:
    city: str | None
    rows: list[SheetRow]
    skipped: int
    items: list[tuple[int, dict[str, Any]]]


def check_scores(engine: Any, user: User, cycle: Cycle, path: Path) -> SheetCheck:
    """A filled score sheet read as ``score import`` reads it, with the refusals it gives before
    recording (a sheet of another city, a sheet with nothing filled in)."""
    from sheets.scores import read_scores

    cycle, program, found = engine.shortlist(user.name, cycle.id)
    named, items, skipped = read_scores(path, program.criteria)
    sheet = Msg("score sheet {file}", file=path.name)
    if named is not None and user.city != named:
        whose = Msg(
            "it is {named}'s sheet; {user} scores for {city}",
            named=party_words(program.parties, named),
            user=user.name,
            city=party_words(program.parties, user.city or ""),
        )
        raise InvalidInput(sheet, [whose])
    if not items:
        raise InvalidInput(sheet, [Msg("no row is filled in")])
    names = {p.id: p.project_name for p in found}
    rows = []
    for label, pid, req in items:
        scores = req.get("scores", {})
        cells = []
        for c in program.criteria:
            value = scores.get(c.id)
            band = c.band_for(value) if isinstance(value, int) else None
            cells.append((c, value, band.label if band else None))
        total = sum(v for v in scores.values() if isinstance(v, int))
        where = row_words(label.params.get("where", label))  # (the project is a column of its own)
        rows.append(SheetRow(where, pid, names.get(pid, ""), cells, total, str(req.get("completion", ""))))
    return SheetCheck(named or user.city, rows, skipped, [(pid, req) for _, pid, req in items])


@router.get("/scores/import", response_class=HTMLResponse)
def scores_page(request: Request, me: Me, cycle: str | None = None) -> Response:
    chosen, program = _score_cycle(request, me, cycle)
    return render(request, "import_scores.html", me, cycle=chosen, program=program, check=None, upload_id="")


@router.post("/scores/import")
async def scores_upload(request: Request, me: Me, form: Posted) -> Response:
    chosen, _ = _score_cycle(request, me, form.get("cycle"))
    file = (await request.form()).get("file")
    box = box_of(request)
    up = await box.save(file, "scores", chosen.id, me.session.id, me.user.name, SCORE_SUFFIXES)
    try:
        await run_in_threadpool(check_scores, engine_of(request), me.user, chosen, up.path)
    except EvalflowError:
        box.drop(up.id)  # refused: nothing kept
        raise
    return RedirectResponse(f"/scores/import/{up.id}", status_code=303)


@router.get("/scores/import/{upload_id}", response_class=HTMLResponse)
def scores_check(request: Request, me: Me, upload_id: str) -> Response:
    up = box_of(request).get(upload_id, me.session.id, "scores")
    chosen, program = _score_cycle(request, me, up.cycle_id)
    check = check_scores(engine_of(request), me.user, chosen, up.path)
    return render(request, "import_scores.html", me, cycle=chosen, program=program, check=check, upload_id=upload_id)


@router.post("/scores/import/{upload_id}/record")
def scores_record(request: Request, me: Me, form: Posted, upload_id: str) -> Response:
    box = box_of(request)
    up = box.get(upload_id, me.session.id, "scores")
    chosen, program = _score_cycle(request, me, up.cycle_id)
    engine = engine_of(request)
    check = check_scores(engine, me.user, chosen, up.path)
    recorded = engine.fire_each(me.user.name, check.items, program.sheet_trigger)
    box.drop(upload_id)
    left = Msg("; {count} rows left empty", count=check.skipped) if check.skipped else ""
    said = Msg(
        "Recorded {count} score sheets for {city}{left}",
        count=len(recorded),
        city=party_words(program.parties, check.city or ""),
        left=left,
    )
    return done(request, me, said, to=f"/queue?cycle={chosen.id}")
