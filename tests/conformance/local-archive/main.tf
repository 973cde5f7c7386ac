# hashicorp/local and hashicorp/archive served offline (saasctl/offline_aws/
# utility.py): files written for real with the provider's digests, read back, and
# zips built at read time, the same bytes for the same sources (a clean re-plan).
# And hashicorp/external: the program run with the query on stdin, as
# terraform-aws-lambda's packaging runs its package.py.
terraform {
  required_version = ">= 1.0.0"
  required_providers {
    local = {
      source = "hashicorp/local"
    }
    archive = {
      source = "hashicorp/archive"
    }
    external = {
      source = "hashicorp/external"
    }
  }
}

resource "local_file" "handler" {
  filename = "${path.module}/build/index.py"
  content  = "def handler(event, context):\n    return {\"ok\": True}\n"
}

resource "local_sensitive_file" "token" {
  filename = "${path.module}/build/token"
  content  = "s3cret"
}

data "local_file" "back" {
  filename = local_file.handler.filename
}

data "archive_file" "lambda" {
  type        = "zip"
  source_file = local_file.handler.filename
  output_path = "${path.module}/build/lambda.zip"
}

data "archive_file" "inline" {
  type        = "zip"
  output_path = "${path.module}/build/inline.zip"

  source {
    content  = "hello"
    filename = "hello.txt"
  }
}

data "archive_file" "inline_again" {
  type        = "zip"
  output_path = "${path.module}/build/inline-again.zip"

  source {
    content  = "hello"
    filename = "hello.txt"
  }
}

data "external" "greeting" {
  program = ["python3", "-c", "import json, sys; q = json.load(sys.stdin); print(json.dumps({'greeting': 'hello ' + q['name']}))"]
  query   = { name = "tenant" }
}

output "checks" {
  value = {
    "external:result"       = data.external.greeting.result.greeting == "hello tenant"
    "local:file digests"    = local_file.handler.content_sha256 == sha256(local_file.handler.content) && local_file.handler.id == sha1(local_file.handler.content)
    "local:read back"       = data.local_file.back.content == local_file.handler.content
    "local:sensitive"       = local_sensitive_file.token.content_md5 == md5("s3cret")
    "archive:hash of file"  = data.archive_file.lambda.output_base64sha256 == try(filebase64sha256(data.archive_file.lambda.output_path), "")
    "archive:size"          = data.archive_file.lambda.output_size > 0
    "archive:deterministic" = data.archive_file.inline.output_sha256 == data.archive_file.inline_again.output_sha256
  }
}
