"""Sample articles shared by tests (written by us): one Dutch report of a round of
job cuts, a near copy of it from another outlet, and an English report of the same
news."""

JUMBO_NL = (
    "Supermarktketen Jumbo schrapt 300 banen op het hoofdkantoor in Veghel. Dat heeft het"
    " bedrijf woensdag bekendgemaakt. Volgens Jumbo is de reorganisatie nodig omdat de"
    " kosten sneller stijgen dan de omzet. De ondernemingsraad van Jumbo is geschrokken en"
    " vakbond FNV wil snel met de directie om tafel. Medewerkers in Veghel hoorden het"
    " nieuws tijdens een personeelsbijeenkomst. Het bedrijf wil gedwongen ontslagen zoveel"
    " mogelijk voorkomen en biedt begeleiding naar ander werk. De banen verdwijnen vooral bij"
    " ondersteunende afdelingen zoals financiën, inkoop en personeelszaken."
)
JUMBO_COPY = JUMBO_NL.replace("woensdag", "op woensdag").replace(
    "De banen verdwijnen", "Volgens ingewijden verdwijnen de banen"
)
JUMBO_EN = (
    "Dutch supermarket chain Jumbo will cut 300 jobs at its head office in Veghel, the"
    " company said on Wednesday. Jumbo said the reorganisation was needed because costs were"
    " rising faster than sales. The works council at Jumbo was shocked and the FNV union"
    " wants talks with management soon. Staff in Veghel heard the news at a meeting."
)
