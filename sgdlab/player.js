// sgdlab's animation player, called by its own script element as f(script, id, frames, labels, ms, hold).
// `frames` are the data: URIs of every frame after the first, which is already the <img>'s src; `ms` is the time
// between frames, and `hold` how long the last frame stays before a loop starts again.
(function (script, id, frames, labels, ms, hold) {
  // Find this player's own elements from its script, so that two players on one page never drive each other; the id
  // is the fallback where a page inserted the script somewhere else.
  var root = (script && script.parentNode && script.parentNode.querySelector) ? script.parentNode
                                                                               : document.getElementById(id);
  var img = root.querySelector('img'), bar = root.querySelector('input[type=range]');
  var txt = root.querySelector('.sgdlab-step'), loop = root.querySelector('input[type=checkbox]');
  var F = [img.getAttribute('src')].concat(frames), n = F.length, j = 0, t = null;
  function show(k) { j = (k + n) % n; img.src = F[j]; bar.value = j; txt.textContent = labels[j]; }
  function stop() { if (t !== null) { clearTimeout(t); t = null; } }
  function later() { t = setTimeout(tick, j === n - 1 ? hold : ms); }
  function tick() {  // the next frame; after the last one, start again if `loop` is ticked, else stop there
    if (j < n - 1) { show(j + 1); if (j < n - 1 || loop.checked) later(); else t = null; }
    else if (loop.checked) { show(0); later(); }
    else t = null;
  }
  var act = {
    first: function () { stop(); show(0); }, prev: function () { stop(); show(j - 1); },
    next: function () { stop(); show(j + 1); }, last: function () { stop(); show(n - 1); },
    play: function () { if (t === null) { if (j === n - 1) show(0); later(); } }, pause: stop
  };
  root.querySelectorAll('button').forEach(function (b) {
    b.addEventListener('click', act[b.getAttribute('data-act')]);
  });
  bar.addEventListener('input', function () { stop(); show(+bar.value); });
})
