from .metafile import ZooEntry, ZooError, find_entry, installed_metafiles, read_metafile
from .teacher_download import FetchedTeacher, download, fetch_teacher, load_check, sha256_of

__all__ = [
    'ZooEntry', 'ZooError', 'find_entry', 'installed_metafiles', 'read_metafile',
    'FetchedTeacher', 'download', 'fetch_teacher', 'load_check', 'sha256_of'
]
