"""What the multi-process tests share: finding processes of a run that are still alive."""
import os
from pathlib import Path

def leftovers(marker: str) -> list[str]:
    "Command lines of processes still running (other than this one) that mention `marker`"
    out = []
    for d in Path('/proc').iterdir():
        if d.name.isdigit() and d.name != str(os.getpid()):
            try: cmd = (d/'cmdline').read_bytes().replace(b'\0', b' ').decode()
            except OSError: continue
            if marker in cmd: out.append(cmd)
    return out
