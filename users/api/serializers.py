from rest_framework import serializers

from users.models import Membership, Organisation, Role


class OrganisationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "kind", "ods_code"]


class MemberSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    name = serializers.CharField(source="user.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "name", "email", "role", "created_at"]


class InvitationInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)
    expires_at = serializers.DateTimeField()


class MembershipSummarySerializer(serializers.Serializer):
    organisation = OrganisationSerializer()
    role = serializers.ChoiceField(choices=Role.choices)


class MeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["user", "application"])
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField(required=False)
    memberships = MembershipSummarySerializer(many=True, required=False)
    is_budget_holder = serializers.BooleanField(required=False)
    organisation = OrganisationSerializer(required=False)
    scopes = serializers.ListField(child=serializers.CharField(), required=False)
