package localstack

import (
	"net/http"
	"testing"
)

// BenchmarkLoginReturningUser is one login of an existing user through the
// local endpoint: HTTP, the executor running statemachine.asl.json, the
// Kakao double (2 calls), moto (mapping read, sign-in, 2 writes). moto, a
// Python server, dominates; the figure bounds what the Go side adds.
func BenchmarkLoginReturningUser(b *testing.B) {
	s := startStack(b)
	s.verifiedUser(b, 4242001)
	tokens := make([]string, 64)
	for i := range tokens {
		tokens[i] = s.accessToken(b, 4242001)
	}
	if status, body := s.login(b, map[string]string{"access_token": tokens[0]}); status != http.StatusOK {
		b.Fatalf("warm-up login: %d %v", status, body)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if status, body := s.login(b, map[string]string{"access_token": tokens[i%len(tokens)]}); status != http.StatusOK {
			b.Fatalf("login: %d %v", status, body)
		}
		i++
	}
}
