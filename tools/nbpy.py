#!/usr/bin/env python3
"""Convert between nbdev notebooks and a plain 'percent' script, for editing notebooks as text.

    python tools/nbpy.py to-nb  nbs/00_core.py  [nbs/00_core.ipynb]
    python tools/nbpy.py to-py  nbs/00_core.ipynb [out.py]

Cells start with a line `# %%` (code) or `# %% [markdown]` (markdown, each line prefixed `# `).
A code cell marker may carry tags: `# %% tags=["parameters"]`.
"""
import hashlib, json, re, sys
from pathlib import Path

_MARK = re.compile(r'^# %%(?P<md> \[markdown\])?(?: tags=(?P<tags>\[.*\]))?\s*$')

def py2cells(text):
    cells, cur = [], None
    for line in text.splitlines():
        m = _MARK.match(line)
        if m:
            if cur: cells.append(cur)
            cur = dict(md=bool(m['md']), tags=json.loads(m['tags']) if m['tags'] else [], lines=[])
        elif cur is not None: cur['lines'].append(line)
    if cur: cells.append(cur)
    out = []
    for c in cells:
        lines = c['lines']
        while lines and not lines[-1].strip(): lines.pop()
        while lines and not lines[0].strip(): lines.pop(0)
        if c['md']: lines = [l[2:] if l.startswith('# ') else l.lstrip('#') for l in lines]
        src = '\n'.join(lines)
        src = [l + '\n' for l in src.split('\n')]
        if src: src[-1] = src[-1].rstrip('\n')
        meta = {'tags': c['tags']} if c['tags'] else {}
        if c['md']: out.append(dict(cell_type='markdown', id='', metadata=meta, source=src))
        else: out.append(dict(cell_type='code', execution_count=None, id='', metadata=meta, outputs=[], source=src))
    seen = set()
    for c in out:  # stable ids: a hash of the source, so unchanged cells keep theirs
        src = ''.join(c['source']); i = 0
        while (cid := hashlib.sha1(f'{src}{i or ""}'.encode()).hexdigest()[:8]) in seen: i += 1
        seen.add(cid); c['id'] = cid
    return out

def to_nb(src, dst=None):
    src = Path(src); dst = Path(dst) if dst else src.with_suffix('.ipynb')
    nb = dict(cells=py2cells(src.read_text()), metadata=dict(kernelspec=dict(display_name='python3', language='python', name='python3')),
              nbformat=4, nbformat_minor=5)
    dst.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
    return dst

def to_py(src, dst=None):
    src = Path(src); nb = json.loads(src.read_text())
    parts = []
    for c in nb['cells']:
        tags = c.get('metadata', {}).get('tags')
        t = f' tags={json.dumps(tags)}' if tags else ''
        s = ''.join(c['source'])
        if c['cell_type'] == 'markdown': parts.append(f'# %% [markdown]{t}\n' + '\n'.join('# ' + l if l else '#' for l in s.split('\n')))
        else: parts.append(f'# %%{t}\n' + s)
    text = '\n\n'.join(parts) + '\n'
    if dst: Path(dst).write_text(text)
    else: sys.stdout.write(text)

if __name__ == '__main__':
    cmd, *args = sys.argv[1:]
    {'to-nb': to_nb, 'to-py': to_py}[cmd](*args)
