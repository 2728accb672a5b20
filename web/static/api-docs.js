// The API's documentation page (/api/docs): Swagger UI, served by this server from the
// swagger-ui-py package, on the server's own OpenAPI document. A file rather than an inline
// script, so that the page's Content-Security-Policy can allow scripts from 'self' only.
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: document.getElementById("swagger-ui").dataset.openapi,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null, // (its badge would be an image from a third party's validator)
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
});
