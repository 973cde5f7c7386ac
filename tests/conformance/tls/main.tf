# hashicorp/tls served offline (saasctl/offline_aws/tls.py): keys of each
# algorithm, a self-signed CA, a request signed by it, read back by the data
# sources, in the formats of the real provider.
terraform {
  required_version = ">= 1.4.0" # terraform_data
  required_providers {
    tls = {
      source = "hashicorp/tls"
    }
  }
}

resource "tls_private_key" "rsa" {
  algorithm = "RSA"
  rsa_bits  = 2048
}

resource "tls_private_key" "ec" {
  algorithm   = "ECDSA"
  ecdsa_curve = "P256"
}

resource "tls_private_key" "ed" {
  algorithm = "ED25519"
}

resource "tls_self_signed_cert" "ca" {
  private_key_pem       = tls_private_key.ec.private_key_pem
  validity_period_hours = 24
  is_ca_certificate     = true
  allowed_uses          = ["cert_signing", "crl_signing"]

  subject {
    common_name  = "saasctl test CA"
    organization = "saasctl"
  }
}

resource "tls_cert_request" "web" {
  private_key_pem = tls_private_key.rsa.private_key_pem
  dns_names       = ["web.saas.local"]

  subject {
    common_name = "web.saas.local"
  }
}

resource "tls_locally_signed_cert" "web" {
  cert_request_pem      = tls_cert_request.web.cert_request_pem
  ca_private_key_pem    = tls_private_key.ec.private_key_pem
  ca_cert_pem           = tls_self_signed_cert.ca.cert_pem
  validity_period_hours = 12
  allowed_uses          = ["key_encipherment", "digital_signature", "server_auth"]
}

data "tls_public_key" "rsa" {
  private_key_pem = tls_private_key.rsa.private_key_pem
}

data "tls_certificate" "chain" {
  content = "${tls_locally_signed_cert.web.cert_pem}${tls_self_signed_cert.ca.cert_pem}"
}

# An OIDC provider's thumbprint from a server's chain (terraform-aws-iam's
# iam-oidc-provider): offline, a stand-in chain for the host, the same on every
# read, so the resource that keeps the thumbprint re-plans clean.
data "tls_certificate" "oidc" {
  url = "https://token.actions.githubusercontent.com"
}

resource "terraform_data" "thumbprint" {
  input = data.tls_certificate.oidc.certificates[0].sha1_fingerprint
}

output "checks" {
  value = {
    "tls:url chain"          = length(data.tls_certificate.oidc.certificates) == 2 && data.tls_certificate.oidc.certificates[0].is_ca && data.tls_certificate.oidc.certificates[1].subject == "CN=token.actions.githubusercontent.com"
    "tls:url thumbprint"     = can(regex("^[0-9a-f]{40}$", terraform_data.thumbprint.output))
    "tls:rsa pem"            = can(regex("^-----BEGIN RSA PRIVATE KEY-----", nonsensitive(tls_private_key.rsa.private_key_pem)))
    "tls:rsa openssh"        = can(regex("^ssh-rsa AAAA", tls_private_key.rsa.public_key_openssh))
    "tls:fingerprints"       = can(regex("^SHA256:", tls_private_key.rsa.public_key_fingerprint_sha256)) && length(split(":", tls_private_key.rsa.public_key_fingerprint_md5)) == 16
    "tls:ecdsa"              = can(regex("^ecdsa-sha2-nistp256 ", tls_private_key.ec.public_key_openssh))
    "tls:ed25519"            = can(regex("^ssh-ed25519 ", tls_private_key.ed.public_key_openssh))
    "tls:public key read"    = data.tls_public_key.rsa.public_key_pem == tls_private_key.rsa.public_key_pem && data.tls_public_key.rsa.algorithm == "RSA"
    "tls:ca"                 = tls_self_signed_cert.ca.key_algorithm == "ECDSA" && can(regex("^-----BEGIN CERTIFICATE-----", tls_self_signed_cert.ca.cert_pem))
    "tls:validity"           = timeadd(tls_self_signed_cert.ca.validity_start_time, "24h") == tls_self_signed_cert.ca.validity_end_time
    "tls:signed by the ca"   = tls_locally_signed_cert.web.ca_key_algorithm == "ECDSA" && length(data.tls_certificate.chain.certificates) == 2
    "tls:chain is read back" = data.tls_certificate.chain.certificates[1].is_ca && data.tls_certificate.chain.certificates[0].subject == "CN=web.saas.local" && data.tls_certificate.chain.certificates[0].issuer == data.tls_certificate.chain.certificates[1].subject
  }
}
