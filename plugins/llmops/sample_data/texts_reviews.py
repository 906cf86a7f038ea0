"""English product-review text. Slots: product noun brand color device price days n hours."""

from __future__ import annotations

from llmops.sample_data.grammar import templates

TITLES = {
    "positive": templates(
        "[Great|Excellent|Solid|Fantastic|Superb] {noun}[ for the price| for daily use| overall|]",
        "[Love it|Really happy with it|Exceeded my expectations|Does exactly what it says]",
        "[Best|Nicest] {noun} I [have owned|have had|bought] [so far|in years]",
    ),
    "mixed": templates(
        "[Good but not great|Decent|Okay for the price|Mixed feelings]",
        "[Nice|Good] {noun}, [some flaws|a few quirks|one big flaw]",
    ),
    "negative": templates(
        "[Disappointed|Not worth it|Stopped working after {days} days|Avoid]",
        "[Poor|Bad|Terrible] [quality|battery|sound|support|experience]",
        "[Returned it|Sent it back] [after a week|within days|the same day]",
    ),
}

INTROS = {
    "positive": templates(
        "[I bought|Got|Picked up|Ordered] the {product} [for my home office|for my commute|for my daughter|"
        "for my dad|for the gym|as an upgrade from my old {noun}|after reading several reviews] and [I am|we "
        "are] [really |very |]happy with it.",
        "[After|Following] [a month|two weeks|{days} days] with the {product} I can say it [is a keeper|was "
        "worth every cent|does the job brilliantly].",
    ),
    "mixed": templates(
        "The {product} [is|has been] [okay|decent|fine] [for the price|so far|overall], [but|though] [not "
        "perfect|I have a few complaints].",
        "[Some things|A few things] about the {product} are [great|nice], others [less so|not really].",
    ),
    "negative": templates(
        "[I bought|Ordered] the {product} [two weeks ago|last month|for my commute|for the office] and [I "
        "regret it|I am disappointed|it has been a letdown].",
        "[Honestly|Sadly], the {product} [did not live up to|fell short of] [the hype|the description|what "
        "the listing promised].",
    ),
}

# how the reviewer uses the product: one of these follows most intros
USAGE = templates(
    "I use it [every day|daily|most evenings|on weekends|on my commute] [with my {device}|at the office|at "
    "home|while travelling][ for about {n} hours| for {n} hours at a time|].",
    "[It replaced|I switched from] [my old {noun}|a cheaper {noun}|another brand] [after {n} years|last "
    "{weekday}|a few weeks ago].",
    "[Bought|Ordered] it [on sale|at full price|with a voucher] for {price} [on {date}|last {weekday}|{days} "
    "days "
    "ago].",
)

# aspect -> (praise, complaints)
ASPECTS = {
    "sound": (
        templates(
            "[Sound|Audio] [is|comes out] [clear|rich|punchy|balanced] [with deep bass|even at "
            "high "
            "volume|without distortion]."
        ),
        templates("[Sound|Audio] is [thin|muddy|tinny] [and distorts at high volume|with almost no bass]."),
    ),
    "battery": (
        templates(
            "[Battery life|The battery] [easily lasts|gets me through] [{n} days|a full work "
            "day|"
            "{hours} hours] [on a charge|of use]."
        ),
        templates(
            "[Battery life|The battery] is [poor|a joke|far from the claimed {hours} hours], "
            "[barely|"
            "maybe] {n} hours [of real use|in practice]."
        ),
    ),
    "build": (
        templates(
            "[Build quality|It] feels [solid|premium|sturdy] and [the finish|the {color} finish] "
            "[looks great|resists fingerprints]."
        ),
        templates(
            "[It|The housing] feels [cheap|flimsy|plasticky] and [creaks|already has a scratch|wobbles on the desk]."
        ),
    ),
    "setup": (
        templates("Setup [took|was done in] [two minutes|five minutes|no time] [with the {brand} app|on my {device}]."),
        templates(
            "Setup [was a pain|took forever|kept failing] [with the {brand} app|on my {device}] "
            "[and "
            "I needed support|until the third try]."
        ),
    ),
    "value": (
        templates("[For {price}|At this price] it is [great value|a steal|hard to beat]."),
        templates("[For {price}|At this price] I expected [much more|better quality|fewer problems]."),
    ),
    "delivery": (
        templates(
            "[Delivery|Shipping] was [fast|quick] and it arrived [in {days} days|the next "
            "day] "
            "[well packed|in perfect condition]."
        ),
        templates("[Delivery|Shipping] took {days} days and the box [was damaged|arrived crushed]."),
    ),
    "connection": (
        templates("[Pairing|The connection] [with|to] my {device} is [instant|rock solid|stable]."),
        templates(
            "[It|The {noun}] [drops the connection|disconnects] from my {device} [every few "
            "minutes|several times a day]."
        ),
    ),
    "comfort": (
        templates(
            "[It|The design] is [light|comfortable|compact] [enough to use all day|and fits in my bag][ even "
            "after "
            "{n} hours|]."
        ),
        templates("[It|The {noun}] is [heavy|bulky|uncomfortable] [after an hour|for daily use]."),
    ),
    "support": (
        templates(
            "[Customer support|The support team] [answered|replied] [within hours|the same day] when I had a question."
        ),
        templates(
            "[Customer support|The support team] [took {days} days to answer|never replied] "
            "[to my e-mails|when I asked for help]."
        ),
    ),
}

VERDICTS = {
    "positive": templates(
        "[Would|I would] [recommend it|buy it again][ without hesitation|].",
        "[Five stars|Highly recommended|Ten out of ten][ from me| overall|].",
        "[My|Our] [whole family|partner|colleague] [wants one now|ordered one too].",
    ),
    "mixed": templates(
        "[Three stars|Average|It is fine] [for now|overall|until something better comes along].",
        "[Worth it|Okay] [on sale|if you can live with that], otherwise [look elsewhere|wait].",
    ),
    "negative": templates(
        "[I am returning it|Returned it|It is going back].",
        "[Would not|I would not|Cannot] recommend [it|this {noun}][ to anyone|].",
        "[Save your money|Spend a bit more] and [buy something else|get a better model].",
    ),
}
