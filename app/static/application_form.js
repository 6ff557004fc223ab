// The bank lists of the application form follow the chosen policy (no inline scripts: the CSP allows 'self' only).
(function () {
  var form = document.getElementById('application-form');
  var map = JSON.parse(form.dataset.banks || '{}');
  var scheme = form.querySelector('select[name=scheme_id]');
  function fill(sel, banks, keepFirst) {
    var current = sel.value, first = keepFirst && sel.options.length ? sel.options[0].cloneNode(true) : null;
    sel.innerHTML = '';
    if (first) { sel.appendChild(first); }
    banks.forEach(function (b) { sel.appendChild(new Option(b[1], b[0])); });
    sel.value = current;
    if (sel.selectedIndex < 0) { sel.selectedIndex = 0; }
  }
  // the chosen policy's limits only (every card stays visible without scripts)
  function limits() {
    document.querySelectorAll('.scheme-limits').forEach(function (dl) {
      dl.hidden = dl.getAttribute('data-scheme') !== scheme.value;
    });
  }
  scheme.addEventListener('change', function () {
    var banks = map[scheme.value] || [];
    fill(form.querySelector('select[name=preferred_bank_id]'), banks, true);
    fill(form.querySelector('select[name=consent_bank_id]'), banks, false);
    limits();
  });
  limits();
})();
