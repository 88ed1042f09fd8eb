package submission

// credentialsStep is DriverKubernetesCredentialsFeatureStep without uploaded credentials: the
// driver's service account.
func (b *driverBuilder) credentialsStep() error {
	if sa := b.conf[keyDriverSA]; sa != "" {
		b.pod.Spec.ServiceAccountName = sa
		b.pod.Spec.DeprecatedServiceAccount = sa
	}
	return nil
}
