# Sphinx configuration for the lesson site. tools/build_docs.py copies this folder next to the processed
# notebooks and builds from there; nothing here executes a notebook.
import json, sys
try: import tomllib
except ModuleNotFoundError: import tomli as tomllib
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE/'_ext'))
_urls = tomllib.loads((HERE/'pyproject.toml').read_text())['project']['urls']
import sgdlab                                  # the version every page shows comes from the package itself

project = 'sgdlab'
author = 'sgdlab developers'
copyright = '2026 onwards, sgdlab developers'
version = release = sgdlab.__version__
html_title = f'sgdlab {release}'

extensions = ['myst_nb', 'mathml', 'sphinx_copybutton']
nb_execution_mode = 'off'                      # the committed outputs are the page
nb_merge_streams = True
nb_render_markdown_format = 'gfm'              # Markdown outputs (the API table) have tables
myst_enable_extensions = ['dollarmath', 'amsmath', 'colon_fence']
myst_all_links_external = True                 # keep `learner.html#fit` as written (see tools/build_docs.py)
exclude_patterns = ['_build', '_ext', '_extra', '_templates', 'jupyter_execute', '**.ipynb_checkpoints',
                    'pyproject.toml', '_site.json']
suppress_warnings = ['mystnb.unknown_mime_type', 'myst.header', 'misc.highlighting_failure']

# show_doc entries are Python-domain objects (tools/build_docs.py): short names, long signatures one parameter a line
add_module_names = False
python_maximum_signature_line_length = 88
python_display_short_literal_types = True

# sphinx-copybutton: a button on code cells and code blocks only, never on outputs; prompts are not copied
copybutton_selector = 'div.highlight pre:not(.cell_output pre)'
copybutton_prompt_text = r'>>> |\.\.\. |\$ |In \[\d*\]: | {2,5}\.\.\.: '
copybutton_prompt_is_regexp = True
copybutton_exclude = '.linenos, .gp, .go'

html_math_renderer = 'mathml'                  # docs/_ext/mathml.py: MathML at build time, no MathJax download
html_theme = 'furo'                            # light (about 200 kB of CSS and JS): pages stay well under 3 MB
html_static_path = ['_static']
html_extra_path = ['_extra']                   # each page's notebook, for download: _docs/nbs/<file>.ipynb
templates_path = ['_templates']
html_css_files = ['sgdlab.css']
html_js_files = ['sgdlab.js']
html_favicon = '_static/favicon.svg'           # also spares the browser a favicon.ico 404
html_copy_source = False
html_show_sourcelink = False
html_context = json.loads((HERE/'_site.json').read_text()) if (HERE/'_site.json').exists() else {}
html_theme_options = {
    'source_repository': _urls['Repository'],
    'source_branch': 'main',
    'source_directory': 'nbs/',
    'navigation_with_keys': False,
    'top_of_page_buttons': [],
}
html_search_scorer = str(Path(__file__).resolve().parent/'_static'/'scorer.js')  # API entries before same-named titles (docs/_static/scorer.js)
