package localstack

import (
	"os"
	"testing"

	"github.com/kakaoauth/kakaoauth/infra/moto"
)

// One moto_server for the package's tests, started on first use and
// stopped when they end.
func TestMain(m *testing.M) { os.Exit(moto.RunTests(m)) }
