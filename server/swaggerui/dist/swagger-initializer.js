// Labrador's Swagger UI configuration (not part of swagger-ui-dist).
// The specs are served by server/swaggerui.Register next to this file.
window.onload = function () {
  window.ui = SwaggerUIBundle({
    urls: [
      { name: "GitLab API v3", url: "/api/docs/v3.json" },
      { name: "GitLab CI API v1", url: "/api/docs/ci-v1.json" }
    ],
    "urls.primaryName": "GitLab API v3",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    validatorUrl: null,
    presets: [
      SwaggerUIBundle.presets.apis,
      SwaggerUIStandalonePreset
    ],
    plugins: [
      SwaggerUIBundle.plugins.DownloadUrl
    ],
    layout: "StandaloneLayout"
  });
};
