// Command go-backend is an app's own API in Go that verifies the kakaoauth
// stack's Cognito tokens itself (shared/cognitojwt, on go-jose): GET
// /profile answers who is calling. Send the pool's ID token as
// `Authorization: Bearer <ID token>` (or the token alone, as API Gateway's
// Cognito authorizer takes it).
//
//	AWS_REGION=ap-northeast-2 USER_POOL_ID=ap-northeast-2_xxxx USER_POOL_CLIENT_ID=yyyy go run ./examples/go-backend
//
// On the local stack (make run) the pool is at moto:
// COGNITO_ENDPOINT=http://127.0.0.1:5000 AWS_REGION=us-east-1.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/kakaoauth/kakaoauth/shared/cognitojwt"
)

type claimsKey struct{}

// requireIDToken lets through requests with a valid, current ID token of
// the pool for the app client, with its claims in the context.
func requireIDToken(v *cognitojwt.Verifier, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		claims, err := v.Verify(r.Context(), token, cognitojwt.UseID)
		if err != nil {
			status, code := http.StatusUnauthorized, "Unauthorized"
			if unavailable := (*cognitojwt.Unavailable)(nil); errors.As(err, &unavailable) {
				status, code = http.StatusInternalServerError, "internal"
			}
			writeJSON(w, status, map[string]string{"error": code, "message": "Sign in again: the ID token is missing, invalid or expired."})
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, claims)))
	})
}

func profile(w http.ResponseWriter, r *http.Request) {
	c := r.Context().Value(claimsKey{}).(cognitojwt.Claims)
	var kakaoID *string
	if c.KakaoID != "" {
		kakaoID = &c.KakaoID
	}
	writeJSON(w, http.StatusOK, map[string]any{"sub": c.Sub, "kakao_id": kakaoID})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func main() {
	region, pool, client := os.Getenv("AWS_REGION"), os.Getenv("USER_POOL_ID"), os.Getenv("USER_POOL_CLIENT_ID")
	if region == "" || pool == "" || client == "" {
		log.Fatal("set AWS_REGION, USER_POOL_ID and USER_POOL_CLIENT_ID (the stack's outputs)")
	}
	// One verifier per process: it caches the pool's keys.
	v := cognitojwt.New(&http.Client{Timeout: 5 * time.Second}, cognitojwt.Issuer(region, pool),
		cognitojwt.JWKSURL(region, pool, os.Getenv("COGNITO_ENDPOINT")), []string{client})

	mux := http.NewServeMux()
	mux.Handle("GET /profile", requireIDToken(v, http.HandlerFunc(profile)))
	port := os.Getenv("PORT")
	if port == "" {
		port = "8091"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		log.Fatal(err)
	}
	// The address, for whoever started it (PORT=0 picks a free port).
	fmt.Printf("{\"listening\":\"http://%s\"}\n", ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}
