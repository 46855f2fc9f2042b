// Renders /api/v1/openapi.json with Swagger UI (bundled from npm, no CDN).
window.addEventListener('load', function () {
  window.SwaggerUIBundle({ url: document.getElementById('swagger').dataset.spec, dom_id: '#swagger', deepLinking: true });
});
