package config

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// Several admin keys in one secret (an app rotating its key): one per
// line or comma-separated, the one to call Kakao with first.
func TestAdminKeys(t *testing.T) {
	for in, want := range map[string][]string{
		"only-key-0001":                    {"only-key-0001"},
		"new-key-0002\nold-key-0001\n":     {"new-key-0002", "old-key-0001"},
		" new-key-0002 , old-key-0001\r\n": {"new-key-0002", "old-key-0001"},
		"\n\n":                             nil,
	} {
		if got := ParseAdminKeys(in); !slices.Equal(got, want) {
			t.Errorf("%q: %v, want %v", in, got, want)
		}
	}
	c := Config{KakaoAdminKeySecretID: "admin"}
	if err := c.LoadSecrets(context.Background(), secretMap{"admin": "new-key-0002,old-key-0001"}, SecretKakaoAdminKey); err != nil {
		t.Fatal(err)
	}
	if c.KakaoAdminKey != "new-key-0002" || !slices.Equal(c.KakaoAdminKeys, []string{"new-key-0002", "old-key-0001"}) {
		t.Fatalf("%q %v", c.KakaoAdminKey, c.KakaoAdminKeys)
	}
	if err := (&Config{KakaoAdminKeySecretID: "admin"}).LoadSecrets(context.Background(), secretMap{"admin": " ,\n"}, SecretKakaoAdminKey); err == nil {
		t.Fatal("a secret of no key was accepted")
	}
}

// Issue 19's settings: the template's defaults when absent, refused
// with the variable's name when malformed, never echoing a secret.
func TestIssue19Settings(t *testing.T) {
	c, err := FromEnv(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.RecreationLimit != DefaultRecreationLimit || c.RecreationPeriod != DefaultRecreationPeriod || c.Retention != (Retention{UnlinkedEmail: DefaultUnlinkedEmailRetention,
		DeletedPII: DefaultDeletedAccountPII, DeletedRow: DefaultDeletedMappingRetention}) ||
		c.ReconcileRate != DefaultReconcileRate || c.ReconcileMaxUnlinks != DefaultReconcileMaxUnlinks || c.KakaoCallbackSources != nil {
		t.Fatalf("defaults %+v", c)
	}
	c, err = FromEnv(envOf(map[string]string{"RECREATION_LIMIT": "0", "RECREATION_PERIOD": "2h", "UNLINKED_EMAIL_RETENTION_DAYS": "0",
		"DELETED_ACCOUNT_PII_DAYS": "7", "DELETED_MAPPING_RETENTION_DAYS": "0", "RECONCILE_REQUESTS_PER_SECOND": "0.5",
		"KAKAO_CALLBACK_CIDRS": "203.0.113.0/24,198.51.100.7", "OUTBOX_GRACE": "1s"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.RecreationLimit != 0 || c.RecreationPeriod != 2*time.Hour || c.Retention != (Retention{DeletedPII: 7 * 24 * time.Hour}) || c.ReconcileRate != 0.5 || len(c.KakaoCallbackSources) != 2 || c.KakaoCallbackSources[1].String() != "198.51.100.7/32" || c.OutboxGrace != time.Second {
		t.Fatalf("settings %+v", c)
	}
	for name, v := range map[string]string{"RECREATION_LIMIT": "-1", "RECREATION_PERIOD": "soon", "DELETED_ACCOUNT_PII_DAYS": "x",
		"RECONCILE_REQUESTS_PER_SECOND": "0", "KAKAO_CALLBACK_CIDRS": "203.0.113.0/24,nope", "OUTBOX_GRACE": "-1s"} {
		if _, err := FromEnv(envOf(map[string]string{name: v})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: %v", name, v, err)
		}
	}
}

// envOf is a getenv of vars, on top of what every test stack sets.
func envOf(vars map[string]string) func(string) string {
	return func(k string) string {
		if k == "ALLOW_NON_KAKAO_HOSTS" {
			return "true"
		}
		return vars[k]
	}
}
