// sgdlab site: on the search page, fill the search box with the query and hide the help once there is one.
document.addEventListener('DOMContentLoaded', () => {
  const q = new URLSearchParams(location.search).get('q');
  const box = document.querySelector('.sgdlab-search-form input[name="q"]');
  if (box && q) box.value = q;
  const help = document.getElementById('sgdlab-search-help');
  if (help && q) help.hidden = true;
});
