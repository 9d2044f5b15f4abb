"""A persistent cache of per-file facts (ModuleFacts or FileError), so that a file whose
bytes have not changed is not parsed again; and of the last whole-program outcome
(findings and file errors), keyed by every file's entry key and the analysis settings,
so that a scan where nothing changed loads no facts at all.

Where: `<root>/.nilcheck_cache/facts.pack`, one packed file for the whole project's facts,
and `outcome.pack` for the last outcome, with a `.gitignore` (`*`) and a `CACHEDIR.TAG`
beside them. Nothing is written anywhere else under the root: a cache directory (or
pack) that is a symlink is refused, never followed.

Entry key: sha256 of the file's bytes, its module name, package flag and relative path
(the facts embed them), the Python version it is checked against (requires-python: a
file's syntax errors depend on it), the cache schema version, the nilcheck and libcst
versions, the Python implementation and minor version, and a digest of nilcheck's own
engine source.
The code digest makes a checkout whose parsing or fact extraction was edited miss,
instead of reusing facts the old code produced under the same version number.

Why one packed file: measured on Django's 883 files, reading and verifying one pack
took 14-22 ms, reading and verifying 883 entry files 31-35 ms; either way the time of a
warm load is unpickling the facts (0.3-0.5 s, the same for both layouts, since entries
are pickled one by one; 0.05-0.06 s since function bodies, and each module's
functions, stay pickled until read, see ir.py). The pack needs no sweeping of stale
entries: it holds exactly the files of the last scan. It is rewritten only when an
entry changed, from the already-pickled bytes of the unchanged entries, so re-packing
after one edit is a copy of ~10 MB, not a re-serialisation. It is written to a
temporary file and moved into place with os.replace, so readers see the old pack or
the new one, never half; two concurrent runs each write a complete pack and the last
one wins.

Why the outcome has a file of its own: a scan where nothing changed reads only that
small file, not the facts (reading and verifying Django's 10 MB of facts took 28 ms, a
tenth of such a scan); and after an edit the facts are written while the analysis runs
(save_facts_in_background), since only the outcome waits for the analysis. Its key
covers every file's entry key, so an outcome and a facts pack from different scans can
never be mistaken for each other. Beside the outcome are the files' stamps (size,
times, inode), a hint for the next scan of which files were edited (engine.py), and,
under the outcome's key, its footprint: what the analysis read and the file keys it read
them from, so that the next scan can tell an edit the analysis cannot see
(footprint.py) and keep the outcome.

Why pickle signed with an HMAC, not a "safe" format: the cache lives in the scanned
repository, which may be hostile, and unpickling attacker-made bytes runs attacker code.
Every pack therefore carries an HMAC-SHA256 over its bytes, keyed with a 256-bit secret
that lives outside any repository (`$XDG_CACHE_HOME/nilcheck/key`, else
`~/.cache/nilcheck/key`, created 0600 in a 0700 directory); bytes whose tag does not
verify never reach pickle. The alternative, JSON of tagged tuples rebuilt into the IR
dataclasses, loaded Django's facts 4x slower in our measurement (1.66 s against 0.38 s
of CPU), which alone would exceed the warm-run budget. The price of the key is that a
cache made by another user or machine (say, restored by CI without the key) is ignored
and rebuilt, never trusted. (marshal was not an option: it is documented as unsafe on
untrusted input too.)

Errors are never raised from here: a missing, corrupt, truncated, foreign-version,
forged or unreadable cache is treated as empty and rewritten; a cache that cannot be
written is skipped.
"""
from __future__ import annotations

import hashlib
import hmac
import importlib.util
import os
import pickle
import secrets
import stat
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Optional, Sequence, Tuple, Union

from nilcheck.linter.ftypes import FileError

if TYPE_CHECKING:  # a scan that reuses the stored outcome never loads the IR
    from nilcheck.linter.ir import ModuleFacts

# Bump when the pack layout or the meaning of cached values changes.
SCHEMA_VERSION = 1
CACHE_DIR_NAME = ".nilcheck_cache"
PACK_NAME = "facts.pack"
OUTCOME_NAME = "outcome.pack"

_MAGIC = b"nilcheck facts pack\n"
_TAG_SIZE = hashlib.sha256().digest_size
_KEY_SIZE = 32
# A pack larger than this is not a pack nilcheck wrote for any sane project; don't read it.
_MAX_PACK_BYTES = 1 << 30
# Temporary files older than this were left by a killed run and may be removed.
_STALE_TEMP_SECONDS = 3600
_CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by nilcheck.\n"
    "# For information about cache directory tags, see https://bford.info/cachedir/\n"
)

Result = Union["ModuleFacts", FileError]
# The outcome pack's slots: no relative path contains NUL, so neither is ever a file's.
_OUTCOME = "\0outcome"
_STAMPS = "\0stamps"
# What the analysis behind the outcome read (footprint.py), keyed like the outcome.
_FOOTPRINT = "\0footprint"
# relative path -> (entry key, pickled result)
_Entries = Dict[str, Tuple[bytes, bytes]]


class FactsCache:
    """The facts cache of one project root, loaded once and saved once per scan."""

    def __init__(self, directory: Path, secret: bytes, fingerprint: bytes) -> None:
        self._directory = directory
        self._secret = secret
        self._fingerprint = fingerprint
        self._facts: Optional[_Entries] = None  # facts.pack as read, on first use
        self._current: _Entries = {}  # the entries of this scan's files
        self._outcomes: Optional[_Entries] = None  # outcome.pack as read, on first use
        self._outcome: Optional[Tuple[bytes, bytes]] = None  # to write
        self._footprint: Optional[Tuple[bytes, bytes]] = None  # to write beside it
        self._stamps: Optional[Dict[str, tuple]] = None  # to write
        self._stamps_changed = False
        self._saving: Optional[threading.Thread] = None
        self._saved: Optional[_Entries] = None  # what the background write writes

    @property
    def _loaded(self) -> _Entries:
        if self._facts is None:
            self._facts = _read_pack(self._directory, self._secret, self._fingerprint)
        return self._facts

    @property
    def _outcome_pack(self) -> _Entries:
        if self._outcomes is None:
            self._outcomes = _read_pack(self._directory, self._secret, self._fingerprint,
                                        OUTCOME_NAME)
        return self._outcomes

    @classmethod
    def open(cls, root: Path) -> Optional["FactsCache"]:
        """The cache of root, or None when there can be none (no usable key, a symlinked
        cache directory). Never raises."""
        try:
            secret = user_key()
            if secret is None:
                return None
            directory = Path(root) / CACHE_DIR_NAME
            if _is_symlink(directory):
                return None
            return cls(directory, secret, code_fingerprint())
        except Exception:  # noqa: BLE001 - a cache problem must never stop a scan
            return None

    def entry_key(self, relative: str, module_name: str, is_package: bool,
                  source: bytes, target: str = "") -> bytes:
        """target: the Python version the file is checked against (engine._target_key),
        so that changing requires-python checks every file again."""
        digest = hashlib.sha256(self._fingerprint)
        for part in (relative, module_name, "package" if is_package else "module", target):
            encoded = part.encode("utf-8", "surrogateescape")
            digest.update(len(encoded).to_bytes(8, "big"))
            digest.update(encoded)
        digest.update(hashlib.sha256(source).digest())
        return digest.digest()

    def outcome_key(self, file_keys: Sequence[Tuple[str, bytes]], settings: str) -> bytes:
        """Key of a whole-program outcome: every file's entry key, and the settings."""
        digest = hashlib.sha256(self._fingerprint)
        for relative, key in file_keys:
            encoded = relative.encode("utf-8", "surrogateescape")
            digest.update(len(encoded).to_bytes(8, "big") + encoded + key)
        digest.update(settings.encode("utf-8", "surrogateescape"))
        return digest.digest()

    def lookup_outcome(self, key: bytes) -> Optional[object]:
        """The outcome stored under key, or None. Reads only the outcome pack."""
        return _unpickled(self._outcome_pack.get(_OUTCOME), key)

    def store_stamps(self, stamps: Dict[str, tuple]) -> bool:
        """Keep, for the next scan, what the files look like (size, times, inode), and
        say whether they differ from what the last scan stored. Only a hint of what
        changed, never trusted for a result: see engine._pool_for_edits."""
        self._stamps = stamps
        self._stamps_changed = stamps != _unpickled(self._outcome_pack.get(_STAMPS), b"")
        return self._stamps_changed

    def store_outcome(self, key: bytes, outcome: object, footprint: object = None) -> None:
        """Keep outcome under key for save(), and beside it footprint: what the analysis
        that computed it read (None: nothing known)."""
        try:
            self._outcome = (key, pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL))
            self._footprint = (key, pickle.dumps(footprint, protocol=pickle.HIGHEST_PROTOCOL))
        except Exception:  # noqa: BLE001 - an unpicklable outcome is simply not cached
            self._outcome = self._footprint = None

    def previous_outcome(self) -> Optional[Tuple[object, object]]:
        """The stored outcome and the footprint stored beside it, whatever their key (the
        last scan's), or None."""
        entry = self._outcome_pack.get(_FOOTPRINT)
        if not isinstance(entry, tuple) or len(entry) != 2:
            return None
        footprint = _unpickled(entry, entry[0])
        outcome = self.lookup_outcome(entry[0]) if footprint is not None else None
        return None if outcome is None else (outcome, footprint)

    def has_facts(self) -> bool:
        """Whether a facts pack is stored (without reading it)."""
        try:
            return stat.S_ISREG(os.lstat(self._directory / PACK_NAME).st_mode)
        except OSError:
            return False

    def has(self, relative: str, key: bytes) -> bool:
        """Whether an entry for relative under key was loaded (lookup may still find it
        unusable)."""
        entry = self._loaded.get(relative)
        return isinstance(entry, tuple) and len(entry) == 2 and entry[0] == key

    def lookup(self, relative: str, key: bytes) -> Optional[Result]:
        """The cached result for relative under key, or None. A hit is kept for save()."""
        entry = self._loaded.get(relative)
        result = _unpickled(entry, key)
        if result is None or not _belongs_to(result, relative):
            return None
        self._current[relative] = entry  # type: ignore[assignment]
        return result  # type: ignore[return-value]

    def peek(self, relative: str, key: bytes) -> Optional[Result]:
        """The cached result for relative under key, or None; not kept for save()."""
        result = _unpickled(self._loaded.get(relative), key)
        return result if result is not None and _belongs_to(result, relative) else None

    def store(self, relative: str, key: bytes, result: Result,
              pickled: Optional[bytes] = None) -> None:
        """Keep result for save(); pickled, when given, is result already pickled."""
        if pickled is None:
            try:
                pickled = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001 - an unpicklable result is simply not cached
                return
        self._current[relative] = (key, pickled)

    def save_facts_in_background(self) -> None:
        """Start writing the entries looked up or stored so far (dropping the files that
        are gone), unless they are what was loaded: the analysis runs meanwhile, and the
        write mostly waits on hashing and the disk, which leave the interpreter free."""
        if self._saving is None and self._facts_changed():
            self._saved = dict(self._current)
            self._saving = threading.Thread(target=self._write_facts, args=(self._saved,),
                                            name="nilcheck-cache-writer")
            self._saving.start()

    def save(self) -> None:
        """Write what this scan changed: the facts (again, if they changed since a
        background write started) and the outcome. Never raises."""
        if self._saving is not None:
            self._saving.join()
            self._saving = None
        if self._facts_changed() and self._current != self._saved:
            self._write_facts(self._current)
        stamps = self._stamps
        if self._outcome is not None or self._stamps_changed:
            entries = {_OUTCOME: self._outcome or self._outcome_pack.get(_OUTCOME),
                       _FOOTPRINT: self._footprint if self._outcome is not None
                       else self._outcome_pack.get(_FOOTPRINT)}
            if stamps is not None:
                entries[_STAMPS] = (b"", pickle.dumps(stamps, protocol=pickle.HIGHEST_PROTOCOL))
            try:
                _write_pack(self._directory, self._secret, self._fingerprint,
                            {slot: entry for slot, entry in entries.items() if entry},
                            OUTCOME_NAME)
            except Exception:  # noqa: BLE001 - a read-only checkout still gets its findings
                pass
            self._outcome = self._footprint = self._stamps = None
            self._stamps_changed = False

    def _facts_changed(self) -> bool:
        # No facts looked up or stored (the outcome was reused): the pack stays as it is.
        used = self._facts is not None or bool(self._current)
        return used and self._current != self._loaded

    def _write_facts(self, entries: _Entries) -> None:
        try:
            _write_pack(self._directory, self._secret, self._fingerprint, entries)
        except Exception:  # noqa: BLE001 - a read-only checkout still gets its findings
            pass


def _unpickled(entry: object, key: bytes) -> Optional[object]:
    """The value of a (key, pickled value) entry stored under key; None when it is not
    one, has another key or does not unpickle."""
    try:
        stored_key, blob = entry  # type: ignore[misc]
        if stored_key != key:
            return None
        return pickle.loads(blob)
    except Exception:  # noqa: BLE001 - a missing or unloadable entry is a miss
        return None


def user_key() -> Optional[bytes]:
    """The per-user secret that signs packs, created on first use; None when it cannot
    be created or is not private to this user."""
    directory = _user_cache_dir()
    path = directory / "key"
    secret = _read_key(path)
    if secret is not None:
        return secret
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = directory / f".key.{os.getpid()}.{secrets.token_hex(8)}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(secrets.token_bytes(_KEY_SIZE))
            try:
                # link, unlike replace, never overwrites a key a concurrent run created.
                os.link(temporary, path)
            except FileExistsError:
                pass
            except OSError:
                os.replace(temporary, path)
        finally:
            try:
                os.unlink(temporary)
            except OSError:
                pass
    except OSError:
        return None
    return _read_key(path)


def code_fingerprint() -> bytes:
    """Digest of everything besides a file's bytes that decides its facts: versions,
    and the source of every module of the engine package (the per-file stage is most of
    it, and a digest of all of it cannot miss a helper module added later; nilcheck's
    own version number would add nothing to that)."""
    digest = hashlib.sha256()
    for part in (f"schema {SCHEMA_VERSION}",
                 f"libcst {_version('libcst')}", sys.implementation.cache_tag or "",
                 "%d.%d" % sys.version_info[:2]):
        digest.update(part.encode() + b"\n")
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\n")
        try:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            digest.update(b"unreadable\n")
    return digest.digest()


# ------------------------------------------------------------------ the pack on disk

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BINARY = getattr(os, "O_BINARY", 0)


def _read_pack(directory: Path, secret: bytes, fingerprint: bytes,
               name: str = PACK_NAME) -> _Entries:
    try:
        descriptor = os.open(directory / name, os.O_RDONLY | _NOFOLLOW | _BINARY)
    except OSError:
        return {}
    try:
        with os.fdopen(descriptor, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_PACK_BYTES:
                return {}
            data = handle.read()
    except OSError:
        return {}
    header = len(_MAGIC) + _TAG_SIZE
    if len(data) < header or not data.startswith(_MAGIC):
        return {}
    tag, body = data[len(_MAGIC):header], memoryview(data)[header:]
    if not hmac.compare_digest(tag, _sign(secret, body)):
        return {}
    try:
        stored_fingerprint, entries = pickle.loads(body)
    except Exception:  # noqa: BLE001 - signed by us but unreadable (e.g. older Python)
        return {}
    if stored_fingerprint != fingerprint or not isinstance(entries, dict):
        return {}
    return entries


def _write_pack(directory: Path, secret: bytes, fingerprint: bytes, entries: _Entries,
                name: str = PACK_NAME) -> None:
    _prepare_directory(directory)
    body = pickle.dumps((fingerprint, dict(sorted(entries.items()))),
                        protocol=pickle.HIGHEST_PROTOCOL)
    temporary = directory / f".{name}.{os.getpid()}.{secrets.token_hex(8)}.tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _BINARY,
                         0o644)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(_MAGIC)
            handle.write(_sign(secret, body))
            handle.write(body)
        if _is_symlink(directory):  # swapped for a link while we wrote: write nothing
            raise OSError("cache directory became a symlink")
        # replace() renames over the pack itself, never through a link planted there.
        os.replace(temporary, directory / name)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    _remove_stale_temporaries(directory)


def _prepare_directory(directory: Path) -> None:
    """Create the cache directory with its .gitignore and CACHEDIR.TAG; raise OSError
    when it is not a real directory."""
    try:
        directory.mkdir()
    except FileExistsError:
        pass
    if _is_symlink(directory) or not directory.is_dir():
        raise OSError(f"{directory} is not a directory nilcheck owns")
    for name, text in ((".gitignore", "# Created by nilcheck.\n*\n"),
                       ("CACHEDIR.TAG", _CACHEDIR_TAG)):
        try:
            # O_EXCL also refuses an existing symlink, so no link is written through.
            descriptor = os.open(directory / name,
                                 os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644)
        except FileExistsError:
            continue
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)


def _remove_stale_temporaries(directory: Path) -> None:
    cutoff = time.time() - _STALE_TEMP_SECONDS
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if name.startswith((f".{PACK_NAME}.", f".{OUTCOME_NAME}.")) and name.endswith(".tmp"):
            path = directory / name
            try:
                if os.lstat(path).st_mtime < cutoff:
                    os.unlink(path)
            except OSError:
                pass


def _sign(secret: bytes, body) -> bytes:
    signature = hmac.new(secret, _MAGIC, hashlib.sha256)
    signature.update(body)
    return signature.digest()


def _belongs_to(result: object, relative: str) -> bool:
    if isinstance(result, FileError):
        return result.file == relative
    from nilcheck.linter.ir import ModuleFacts  # loaded already: result was unpickled

    return isinstance(result, ModuleFacts) and result.path == relative


def _is_symlink(path: Path) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


# ------------------------------------------------------------------ the user's key


def _user_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says a relative value is invalid and must be ignored.
    if not base or not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nilcheck"


def _read_key(path: Path) -> Optional[bytes]:
    try:
        descriptor = os.open(path, os.O_RDONLY | _NOFOLLOW | _BINARY)
    except OSError:
        return None
    try:
        with os.fdopen(descriptor, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or not _private(info):
                return None
            secret = handle.read(_KEY_SIZE + 1)
    except OSError:
        return None
    return secret if len(secret) == _KEY_SIZE else None


def _private(info: os.stat_result) -> bool:
    """Only this user can read or write the key (not checkable on Windows)."""
    if not hasattr(os, "getuid"):
        return True
    return info.st_uid == os.getuid() and not info.st_mode & 0o077


def _version(distribution: str) -> str:
    """The installed version of distribution. Read from the name of the .dist-info
    directory beside the package when there is one: importing importlib.metadata costs
    30 ms, a tenth of a warm scan."""
    try:
        spec = importlib.util.find_spec(distribution)  # finds, does not import
        if spec is not None and spec.origin:
            prefix = distribution.replace("-", "_") + "-"
            site = Path(spec.origin).parent.parent
            found = sorted(name[len(prefix):-len(".dist-info")] for name in os.listdir(site)
                           if name.startswith(prefix) and name.endswith(".dist-info"))
            if len(found) == 1:
                return found[0]
        from importlib.metadata import version

        return version(distribution)
    except Exception:  # noqa: BLE001 - not installed as a distribution
        return "unknown"
