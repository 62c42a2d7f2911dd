from enum import Enum
from typing import Annotated, Literal

from openai import OpenAI
from pydantic import BaseModel, Field


class Size(str, Enum):
    small = "small"
    large = "large"


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int = Field(ge=1, le=9)


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool


class Shelter(BaseModel):
    pets: list[Annotated[Cat | Dog, Field(discriminator="kind")]] = Field(min_length=1)
    beds: dict[Size, int]
    code: str = Field(pattern=r"^[A-Z]{3}-\d{4}$")
    note: str | None


def test_shelter(chat_emulator):
    client = OpenAI(base_url=chat_emulator.base_url, api_key=chat_emulator.api_key)

    kinds = set()
    for day in range(8):
        completion = client.chat.completions.parse(
            model="openai/gpt-4o",
            messages=[{"role": "user", "content": f"Shelter report, day {day}"}],
            response_format=Shelter,
        )
        shelter = completion.choices[0].message.parsed
        kinds.update(pet.kind for pet in shelter.pets)

    assert kinds == {"cat", "dog"}  # different requests take different branches
