# Sphinx configuration for the lesson site. tools/build_docs.py copies this folder next to the processed
# notebooks and builds from there; nothing here executes a notebook.
import sys
try: import tomllib
except ModuleNotFoundError: import tomli as tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent/'_ext'))
_urls = tomllib.loads((Path(__file__).parent/'pyproject.toml').read_text())['project']['urls']

project = 'sgdlab'
author = 'sgdlab developers'
copyright = '2026 onwards, sgdlab developers'
html_title = 'sgdlab'

extensions = ['myst_nb', 'mathml']
nb_execution_mode = 'off'                      # the committed outputs are the page
nb_merge_streams = True
nb_render_markdown_format = 'gfm'              # Markdown outputs (show_doc, the API table) have tables
myst_enable_extensions = ['dollarmath', 'amsmath', 'colon_fence']
myst_all_links_external = True                 # keep `learner.html#fit` as written (see tools/build_docs.py)
exclude_patterns = ['_build', '_ext', 'jupyter_execute', '**.ipynb_checkpoints', 'pyproject.toml']
suppress_warnings = ['mystnb.unknown_mime_type', 'myst.header', 'misc.highlighting_failure']

html_math_renderer = 'mathml'                  # docs/_ext/mathml.py: MathML at build time, no MathJax download
html_theme = 'furo'                            # light (about 200 kB of CSS and JS): pages stay well under 3 MB
html_static_path = ['_static']
html_css_files = ['sgdlab.css']
html_favicon = '_static/favicon.svg'           # also spares the browser a favicon.ico 404
html_copy_source = False
html_show_sourcelink = False
html_theme_options = {
    'source_repository': _urls['Repository'],
    'source_branch': 'main',
    'source_directory': 'nbs/',
    'navigation_with_keys': False,
    'top_of_page_buttons': [],
}
