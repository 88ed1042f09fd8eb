package operatorcmd

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestQuotaFlags: --enable-resource-quota-enforcement turns the webhook's quota check on, and is
// refused where no webhook is served.
func TestQuotaFlags(t *testing.T) {
	f := pflag.NewFlagSet("test", pflag.ContinueOnError)
	q := addQuotaFlags(f)
	if len(q.webhookOptions()) != 0 || q.withoutWebhook() != nil {
		t.Fatal("quota enforcement on by default")
	}
	if err := f.Parse([]string{"--enable-resource-quota-enforcement"}); err != nil {
		t.Fatal(err)
	}
	if len(q.webhookOptions()) != 1 {
		t.Error("the flag does not reach the webhook")
	}
	if err := q.withoutWebhook(); err == nil || !strings.Contains(err.Error(), "--enable-resource-quota-enforcement") || !strings.Contains(err.Error(), "--enable-webhook") {
		t.Errorf("without the webhook: %v; want a refusal naming both flags", err)
	}
}
