// sgdlab site: small things furo does not do.

// 1. The search page: fill our search box with the query, and hide the help once there is one.
document.addEventListener('DOMContentLoaded', () => {
  const q = new URLSearchParams(location.search).get('q');
  const box = document.querySelector('.sgdlab-search-form input[name="q"]');
  if (box && q) box.value = q;
  const help = document.getElementById('sgdlab-search-help');
  if (help && q) help.hidden = true;
});

// 2. Tables on a phone: one that does not fit its column becomes a stack of cards, each cell labelled with its
//    column's header (the CSS for `table.sgdlab-stack` is in sgdlab.css); a wider screen gets the table back.
const sgdlabPhone = window.matchMedia('(max-width: 40em)');
function sgdlabStackTables() {
  document.querySelectorAll('article table').forEach(t => {
    const heads = Array.from(t.querySelectorAll(':scope > thead > tr:last-child > th')).map(th => th.innerText.trim());
    if (!heads.length) return;                                   // a table without a header row just scrolls
    if (!t.dataset.sgdlabLabelled) {
      t.querySelectorAll(':scope > tbody > tr').forEach(tr =>
        // every cell, a pandas frame's index (a th) included
        Array.from(tr.children).forEach((td, i) => { if (heads[i]) td.dataset.label = heads[i]; }));
      t.dataset.sgdlabLabelled = '1';
    }
    t.classList.remove('sgdlab-stack');
    if (sgdlabPhone.matches && t.scrollWidth > t.parentElement.clientWidth + 1) t.classList.add('sgdlab-stack');
  });
}
document.addEventListener('DOMContentLoaded', sgdlabStackTables);
sgdlabPhone.addEventListener('change', sgdlabStackTables);
