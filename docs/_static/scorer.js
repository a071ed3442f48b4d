/* sgdlab's search scoring: Sphinx's default weights, with one change. A page or section titled like an API name
   ("History") must not outrank that name's own entry, so an object whose name matches gets a boost that puts it
   first; tests/test_docs.py checks that searches for API names land on their entries. */
var Scorer = {
  score: result => {
    const [docname, title, anchor, descr, score, filename, kind] = result;
    return kind === 'object' ? score + 10 : score;
  },
  objNameMatch: 11,
  objPartialMatch: 6,
  objPrio: {0: 15, 1: 5, 2: -5},
  objPrioDefault: 0,
  title: 15,
  partialTitle: 7,
  term: 5,
  partialTerm: 2,
};
