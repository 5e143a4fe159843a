package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"github.com/labrador-dev/labrador/persistence"
)

// gate is the middleware that puts a request through the contract before
// any handler runs, in GitLab's order: route → authenticate (and sudo) →
// admin check → parameters. A request outside the contract's prefixes
// passes untouched.
func (s *Server) gate(ct *contract) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			method := r.Method // HEAD arrives here as GET (headAsGet)
			op, pathParams, allowed, inside := ct.match(method, r.URL.EscapedPath())
			if !inside {
				return next(c)
			}
			if op == nil {
				if len(allowed) == 0 {
					return routeNotFound
				}
				allow := "OPTIONS, " + strings.Join(allowed, ", ")
				if method == http.MethodOptions {
					c.Response().Header().Set(echo.HeaderAllow, allow)
					return c.NoContent(http.StatusNoContent)
				}
				return methodNotAllowed(allow)
			}

			var params map[string]any
			var paramErr *apiError
			var err error
			switch {
			case op.multipart:
				// Files: the handler reads the multipart body itself. Sent
				// anything else (or nothing), it sees an empty multipart body.
				if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "multipart/form-data" {
					r.Body = io.NopCloser(strings.NewReader("--x--\r\n"))
					r.ContentLength = -1
					r.Header.Set("Content-Type", "multipart/form-data; boundary=x")
				}
			case op.rawBody:
				// The handler reads the bytes as they came.
			case op.body != nil:
				if params, paramErr, err = foldParams(r, op.body); err != nil {
					return err
				}
			case r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody:
				// No body in the contract (a GET, a DELETE): Grape still read
				// parameters from one, so they join the query string.
				if paramErr, err = foldBodyIntoQuery(r); err != nil {
					return err
				}
			}

			ctx, err := s.authenticate(c, op, params)
			if err != nil {
				return err
			}
			// A path id of the wrong type is a failed find.
			for name, typ := range op.pathTypes {
				if typ == openapi3.TypeInteger {
					if _, err := strconv.ParseInt(pathParams[name], 10, 64); err != nil {
						return recordNotFound()
					}
				}
			}
			if paramErr != nil {
				return paramErr
			}
			if op.body != nil {
				delete(params, "private_token")
				delete(params, "sudo")
				b, err := json.Marshal(params)
				if err != nil {
					return err
				}
				r.Body = io.NopCloser(bytes.NewReader(b))
				r.ContentLength = int64(len(b))
				r.Header.Set("Content-Type", "application/json")
			}
			r = r.WithContext(ctx)
			c.SetRequest(r)

			in := &openapi3filter.RequestValidationInput{
				Request:    r,
				PathParams: pathParams,
				Route:      op.route,
				Options: &openapi3filter.Options{
					AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
					ExcludeRequestBody: op.multipart || op.rawBody,
				},
			}
			if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
				verr := validationError(err)
				var ae *apiError
				if op.paramsAfterAccess && errors.As(verr, &ae) && ae.missingParam {
					// Answered by the handler once it has checked access.
					c.SetRequest(r.WithContext(context.WithValue(ctx, paramsKey, ae)))
					return next(c)
				}
				return verr
			}
			return next(c)
		}
	}
}

// validationError turns kin-openapi's verdict into GitLab's answer: a
// missing required value is bad_request!(name); anything else a
// validation body naming the field.
func validationError(err error) error {
	var re *openapi3filter.RequestError
	if !errors.As(err, &re) {
		return err
	}
	if re.Parameter != nil {
		if errors.Is(re.Err, openapi3filter.ErrInvalidRequired) {
			return badRequestNotGiven(re.Parameter.Name)
		}
		if re.Parameter.In == openapi3.ParameterInPath {
			return recordNotFound()
		}
		return invalidField(re.Parameter.Name, "is invalid")
	}
	var se *openapi3.SchemaError
	if errors.As(re.Err, &se) {
		ptr := se.JSONPointer()
		if se.SchemaField == "required" {
			// The pointer names the missing property, e.g. ["title"].
			return badRequestNotGiven(strings.Join(ptr, "."))
		}
		if len(ptr) > 0 {
			return invalidField(ptr[0], "is invalid")
		}
	}
	if re.RequestBody != nil {
		return malformedBody
	}
	return invalidField("base", "is invalid")
}

type ctxKey int

const (
	userKey ctxKey = iota
	requestKey
	paramsKey
	tokenGivenKey // a public operation's request carried a private token
)

// paramsChecked answers the missing required parameter the gate held back
// for an x-params-after-access operation; handlers of such operations call
// it right after finding the resource and checking access.
func paramsChecked(ctx context.Context) error {
	if ae, ok := ctx.Value(paramsKey).(*apiError); ok {
		return ae
	}
	return nil
}

// currentUser is the authenticated user (after sudo) of the request.
func currentUser(ctx context.Context) *persistence.User {
	u, _ := ctx.Value(userKey).(*persistence.User)
	return u
}

// requestOf is the HTTP request a handler serves, for building links.
func requestOf(ctx context.Context) *http.Request {
	r, _ := ctx.Value(requestKey).(*http.Request)
	return r
}
