terraform {
  required_version = ">= 1.6"
  backend "s3" {
    bucket = "shop-terraform-state"
    key    = "infra.tfstate"
    region = "eu-west-1"
  }
}

resource "aws_security_group" "api" {
  name        = "api"
  description = "API load balancer"

  ingress {
    description = "HTTPS from the VPN"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["10.20.0.0/16"]
  }
}
