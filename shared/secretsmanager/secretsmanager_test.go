package secretsmanager

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/kakaoauth/kakaoauth/infra/moto"
	"github.com/kakaoauth/kakaoauth/shared/config"
)

func TestMain(m *testing.M) { os.Exit(moto.RunTests(m)) }

// A Lambda's cold start against real Secrets Manager (moto): each secret
// it declares is read by the id its environment gives, and an error
// carries the API's code, never a value.
func TestLoadSecretsFromSecretsManager(t *testing.T) {
	ctx := context.Background()
	api := awssm.NewFromConfig(moto.AWSConfig(ctx, moto.ForTest(t).URL()))
	const pepper = "pepper-pepper-pepper-pepper-pepper-0123"
	put := func(name, value string) string {
		t.Helper()
		out, err := api.CreateSecret(ctx, &awssm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.ARN)
	}
	pepperARN := put("smtest/pepper", `{"current":"1","1":"`+pepper+`"}`)
	put("smtest/admin-key", "admin-key-value")
	put("smtest/weak", `{"current":"1","1":"short-secret"}`)
	if _, err := api.CreateSecret(ctx, &awssm.CreateSecretInput{Name: aws.String("smtest/binary"), SecretBinary: []byte("b")}); err != nil {
		t.Fatal(err)
	}

	// By ARN (as the template passes the pepper) and by name (the admin key).
	c := config.Config{PepperSecretID: pepperARN, KakaoAdminKeySecretID: "smtest/admin-key"}
	if err := c.LoadSecrets(ctx, FromConfig(moto.AWSConfig(ctx, moto.ForTest(t).URL())), config.SecretPepper, config.SecretKakaoAdminKey); err != nil {
		t.Fatal(err)
	}
	if string(c.Pepper) != pepper || c.PepperVersion != 1 || c.KakaoAdminKey != "admin-key-value" {
		t.Fatalf("loaded version %d, admin key %d bytes", c.PepperVersion, len(c.KakaoAdminKey))
	}

	for id, want := range map[string]string{
		"smtest/weak":    "shorter than",
		"smtest/missing": "ResourceNotFoundException",
		"smtest/binary":  "binary",
	} {
		err := (&config.Config{PepperSecretID: id}).LoadSecrets(ctx, New(api), config.SecretPepper)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "short-secret") {
			t.Errorf("%s: %v, want an error naming %q and no value", id, err, want)
		}
	}
}
