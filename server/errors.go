package server

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/labrador-dev/labrador/persistence"
)

// apiError is an answer other than success: a status and GitLab's exact
// body. Every error body the API writes is built by one of the
// constructors below (GitLab's lib/api/helpers.rb), and written by
// errorHandler alone.
type apiError struct {
	status int
	body   any
	header map[string]string
	// missingParam marks bad_request!(attr) for a required parameter.
	missingParam bool
}

func (e *apiError) Error() string {
	b, _ := json.Marshal(e.body)
	return http.StatusText(e.status) + ": " + string(b)
}

type message struct {
	Message any `json:"message"`
}

// grapeError is the framework's own error! with a string: {"error": "..."}.
type grapeError struct {
	Error string `json:"error"`
}

func unauthorized() *apiError {
	return &apiError{status: http.StatusUnauthorized, body: message{"401 Unauthorized"}}
}

// forbidden is forbidden!, with an optional reason joined GitLab's way: two
// spaces before the dash.
func forbidden(reason ...string) *apiError {
	msg := "403 Forbidden"
	if len(reason) > 0 {
		msg += "  - " + reason[0]
	}
	return &apiError{status: http.StatusForbidden, body: message{msg}}
}

// badRequestNotGiven is bad_request!(attr).
func badRequestNotGiven(attr string) *apiError {
	return &apiError{status: http.StatusBadRequest, body: message{`400 (Bad request) "` + attr + `" not given`}, missingParam: true}
}

// notFound is not_found!(resource): "404 <resource> Not Found", or
// "404 Not Found" without one.
func notFound(resource ...string) *apiError {
	msg := "404 Not Found"
	if len(resource) > 0 {
		msg = "404 " + resource[0] + " Not Found"
	}
	return &apiError{status: http.StatusNotFound, body: message{msg}}
}

// recordNotFound is what an ActiveRecord find that raised gave: lower-case f.
func recordNotFound() *apiError {
	return &apiError{status: http.StatusNotFound, body: message{"404 Not found"}}
}

// conflict is conflict!(text).
func conflict(text string) *apiError {
	return &apiError{status: http.StatusConflict, body: message{text}}
}

// renderAPIError is render_api_error!(msg, status).
func renderAPIError(status int, msg string) *apiError {
	return &apiError{status: status, body: message{msg}}
}

// validationFailed is render_validation_error!: the model's error hash.
func validationFailed(v *persistence.ValidationError) *apiError {
	return &apiError{status: http.StatusBadRequest, body: message{v.Fields}}
}

func invalidField(field, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, body: message{map[string][]string{field: {msg}}}}
}

func tooLarge() *apiError {
	return &apiError{status: http.StatusRequestEntityTooLarge, body: message{"413 Request Entity Too Large"}}
}

func internalError() *apiError {
	return &apiError{status: http.StatusInternalServerError, body: message{"500 Internal Server Error"}}
}

// Grape's own answers, which GitLab did not wrap.
var (
	routeNotFound = &apiError{status: http.StatusNotFound, body: grapeError{"404 Not Found"}}
	malformedBody = &apiError{status: http.StatusBadRequest, body: grapeError{"message body does not match declared format"}}
)

func methodNotAllowed(allow string) *apiError {
	return &apiError{status: http.StatusMethodNotAllowed, body: grapeError{"405 Not Allowed"}, header: map[string]string{"Allow": allow}}
}

// errorHandler is echo's HTTPErrorHandler: the one place an error becomes
// an HTTP answer. A 5xx never shows internals; it is logged instead.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	ae := s.toAPIError(err, c)
	if ae.status >= 500 {
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	for k, v := range ae.header {
		c.Response().Header().Set(k, v)
	}
	writeJSON(c, ae.status, ae.body)
}

func (s *Server) toAPIError(err error, c echo.Context) *apiError {
	var (
		ae  *apiError
		he  *echo.HTTPError
		ve  *persistence.ValidationError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &mbe):
		return tooLarge()
	case errors.Is(err, persistence.ErrNotFound):
		return recordNotFound()
	case errors.As(err, &ve):
		return validationFailed(ve)
	case errors.As(err, &he):
		switch he.Code {
		case http.StatusNotFound:
			return routeNotFound
		case http.StatusMethodNotAllowed:
			return methodNotAllowed(c.Response().Header().Get(echo.HeaderAllow))
		case http.StatusRequestEntityTooLarge:
			return tooLarge()
		case http.StatusBadRequest, http.StatusUnsupportedMediaType:
			// The binder could not read a body the validator let through.
			return malformedBody
		case http.StatusUnauthorized:
			return unauthorized()
		case http.StatusForbidden:
			return forbidden()
		}
		if he.Code < 500 {
			return renderAPIError(he.Code, strings.TrimSpace(http.StatusText(he.Code)))
		}
	}
	return internalError()
}

// writeJSON writes body with Content-Type exactly application/json, as
// GitLab (and the runners that compare the string) expect.
func writeJSON(c echo.Context, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		slog.Error("encode error body", "err", err)
		b = []byte(`{"message":"500 Internal Server Error"}`)
		status = http.StatusInternalServerError
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/json")
	c.Response().WriteHeader(status)
	if c.Request().Method != http.MethodHead {
		_, _ = c.Response().Write(b)
	}
}
