package operatorcmd

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/sparkop/spark-operator/internal/webhook"
)

// quotaOptions are the ResourceQuota flags of the commands that serve the validating webhook
// (`controller start`, and `webhook start`), named as Kubeflow's.
type quotaOptions struct {
	// enforce is --enable-resource-quota-enforcement.
	enforce bool
}

// addQuotaFlags registers --enable-resource-quota-enforcement on f and returns where its value lands.
func addQuotaFlags(f *pflag.FlagSet) *quotaOptions {
	q := &quotaOptions{}
	f.BoolVar(&q.enforce, "enable-resource-quota-enforcement", false,
		"reject at admission (validating webhook) SparkApplications whose driver and executors do not fit in their namespace's ResourceQuotas")
	return q
}

// webhookOptions are the webhook.Register options the flags ask for.
func (q *quotaOptions) webhookOptions() []webhook.Option {
	if q == nil || !q.enforce {
		return nil
	}
	return []webhook.Option{webhook.WithResourceQuotaEnforcement()}
}

// withoutWebhook refuses --enable-resource-quota-enforcement when the webhook is not served, where
// it could do nothing (without the webhook the controller still reports executors a quota blocks,
// in the QuotaExceeded condition).
func (q *quotaOptions) withoutWebhook() error {
	if q != nil && q.enforce {
		return fmt.Errorf("--enable-resource-quota-enforcement needs the validating webhook (--enable-webhook)")
	}
	return nil
}
