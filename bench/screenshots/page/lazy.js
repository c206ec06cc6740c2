// Lazy content the way many sites do it: images whose src is set when they come near the viewport, and a section
// fetched and inserted when it is scrolled to. Native loading=lazy images are in the HTML itself.
(function () {
  var io = new IntersectionObserver(
    function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) return;
        var el = entry.target;
        io.unobserve(el);
        if (el.dataset.src) {
          el.src = el.dataset.src;
          el.removeAttribute('data-src');
        }
        if (el.dataset.fragment) {
          fetch(el.dataset.fragment)
            .then(function (response) { return response.text(); })
            .then(function (html) { el.innerHTML = html; });
        }
      });
    },
    { rootMargin: '200px 0px' },
  );
  document.querySelectorAll('[data-src], [data-fragment]').forEach(function (el) { io.observe(el); });
})();
