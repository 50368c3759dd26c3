"""A text in both of the platform's languages, as the API writes it."""

from rest_framework import serializers


class BilingualSerializer(serializers.Serializer):
    zh = serializers.CharField()
    en = serializers.CharField()
